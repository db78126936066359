"""Validate: the checks built from the standard layout, as polars (`rows`) and as a pandera
schema (`panderaschema`, the reference), its checks and check
digits, keys across chunks and files, exact even when hashes collide (`keys`,
`keytext`, `crossfile`) and group checks (`groupcheck`).

May import `transform` and what lies below it; never `sinks`, `reconcile`, `report`, `run`.
"""
