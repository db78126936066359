"""Confirm a staging table against what was sent to it, before it replaces anything.

The database sink sums up every batch it loads (`migrate.sinks.loadproof.LoadProof`: rows,
per-column totals, an order-free row-hash sum); here the database computes the same figures
from the staging table with aggregate queries, and each pair becomes an invariant:

- `db_rows:<table>`              rows counted in the staging table = rows accepted (all the
  files that loaded the table, in a migration plan) = rows sent;
- `db_load_totals:<table>.<col>` non-null count, sum of numbers, earliest/latest date:
  database = rows sent;
- `db_load_hash:<table>`         the row-hash sums: database = rows sent.

Why this proves the stored rows equal the rows sent is said in `migrate.sinks.loadproof`. The
rows sent are the very frames the CSV and Parquet outputs were written from, so the database
equals the outputs; `migrate reconcile OUT` re-checks that later on its own, from the Parquet
file (`migrate.reconcile.verify_db`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from migrate.reconcile.ledger import Invariant
from migrate.reconcile.verify_db import masked_totals
from migrate.sinks.loadproof import LoadProof, staged_proof
from migrate.sinks.sql import _adbc_sqlite, connect, create_engine

if TYPE_CHECKING:
    from migrate.sinks.sql import SqlSink


def verify_staged(sink: SqlSink, sent: LoadProof, accepted: int) -> list[Invariant]:
    """The invariants of the staging table `sink` loaded against `sent` (its own proof, merged
    with those of earlier files that appended to the same table) and the rows accepted."""
    schema, name = sink.schema, sink.table_name
    engine = create_engine(sink.url)
    try:
        with connect(engine) as conn:
            staged = staged_proof(conn, schema, sink.staging.name, _adbc_sqlite(engine))
    finally:
        engine.dispose()
    found = [Invariant(f"db_rows:{name}", staged.rows == accepted == sent.rows, accepted,
                       staged.rows, "rows counted in the staging table = records accepted "
                       f"= rows sent ({sent.rows})")]
    expected_totals = sent.totals()
    for spec in schema.columns:
        expected, actual = expected_totals[spec.name], staged.totals[spec.name]
        found.append(Invariant(
            f"db_load_totals:{name}.{spec.name}", expected == actual,
            masked_totals(expected, spec), masked_totals(actual, spec),
            "non-null count, sum, min/max of the column: rows sent = staging table"))
    found.append(Invariant(f"db_load_hash:{name}", sent.fingerprint() == staged.fingerprint,
                           sent.fingerprint(), staged.fingerprint,
                           "order-free sum of the row hashes: rows sent = staging table "
                           "(rows:sum of high 32 bits:sum of low 32 bits)"))
    return found
