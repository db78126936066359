"""Validate: the pandera schema built from the standard layout (`rows`), its checks and check
digits, keys across chunks and files, exact even when hashes collide (`keys`,
`keytext`, `crossfile`) and group checks (`groupcheck`).

May import `transform` and what lies below it; never `sinks`, `reconcile`, `report`, `run`.
"""
