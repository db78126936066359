"""Report: what a person reads after a run, from run.json and the masked rejects only: the
HTML report (`html`, jinja2 templates) and the screen summary (`summary`, rich).

May import `reconcile` and what lies below it; the only package that imports jinja2.
"""
