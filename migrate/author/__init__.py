"""Author: help a person write and review mappings. `explain` (what a reject reason means),
`listing` (the bundled mappings and schemas), `preview` (records decoded field by field),
`sniff/` (the layout of an unknown file, and a draft mapping), `copybook/` (a
mapping from a COBOL copybook).

Sits beside `synth` and `export`: may import `report`, `reconcile`, `sinks`, `validate`,
`transform`, `read`, `decode`, `layouts`, `errors`, `problems`, `pii` and `i18n`; never `run`,
`synth`, `export` or `cli`, and never click.
"""
