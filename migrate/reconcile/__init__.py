"""Reconcile: the ledger and its invariants (`ledger`), the reasons of rejects (`reasons`),
the verification of a staging table against what was loaded into it (`verify_load`), and the
later re-verification of a database against its Parquet output (`verify_db`).

May import `sinks`, `validate` and what lies below them; never `report`, `run` or `cli`.
"""
