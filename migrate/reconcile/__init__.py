"""Reconcile: the ledger and its invariants (`ledger`), the reasons of rejects (`reasons`), and
the re-verification of a loaded database against its Parquet output (`verify_db`).

May import `sinks`, `validate` and what lies below them; never `report`, `run` or `cli`.
"""
