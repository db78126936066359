"""`migrate check`: lint mappings, schemas, plans, code and 外字 tables for CI, every problem at
once (`problem`, `rules`, `lint`), in the formats CI systems read (`formats`), with the JSON Schema
of each YAML kind for editors (`jsonschema`), and a dry run over a sample of real records
(`sample`).

Imports layouts (the loaders, collecting), and for `--sample` read, decode, transform and
validate; never sinks, run or cli, and writes nothing.
"""
