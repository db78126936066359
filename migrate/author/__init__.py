"""Author: help a person write and review mappings. `explain` (what a reject reason means),
`listing` (the bundled mappings and schemas), `preview` (records decoded field by field). Sits beside `synth` and `export`: may import `report`, `reconcile`,
`transform`, `read`, `decode`, `layouts`, `errors`, `problems`, `pii` and `i18n`; never `run`,
`synth`, `export` or `cli`, and never click.
"""
