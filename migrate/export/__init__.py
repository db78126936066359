"""Export: the contract deliverable at the end of a contract — `package` writes a BagIt bag with
a Frictionless datapackage.json, the layout YAML and the Japanese cover list; `verify` re-checks
such a package (fixity, counts, schema, cross-file rules); `diff` compares two standardized
datasets by key (parallel running). `source` finds the standard data of a run, a plan or a package.

Sits beside `run` and `synth`: may import report, reconcile, sinks, validate, transform, read,
decode and layouts (and what lies below them); never `run` or `cli`, nor click.
"""
