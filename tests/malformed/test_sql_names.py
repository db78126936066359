"""Names reach SQL quoted, never pasted in: the loader refuses unsafe names, and even a name
that would need quoting (built here by hand, past the loader) is read back correctly instead of
breaking or injecting into the SQL the re-verification runs."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from migrate.layouts import ColumnSpec, Schema
from migrate.reconcile import verify_db
from migrate.sinks.sql import create_engine, table_for

HOSTILE_TABLE = 'juki" ; DROP TABLE victim; --'
HOSTILE_COLUMN = 'shi"mei'


def hostile_schema(tmp_path: Path) -> Schema:
    columns = (ColumnSpec("atena_no", "宛名番号", "Person id", "digits", required=True),
               ColumnSpec(HOSTILE_COLUMN, "氏名", "Name", "str"))
    return Schema(f"{HOSTILE_TABLE}/v1", "t", "t", columns, ("atena_no",), (),
                  tmp_path / "schema.yaml")


@pytest.mark.parametrize("adbc", [True, False])
def test_reverification_quotes_names(tmp_path, monkeypatch, adbc):
    monkeypatch.setattr(verify_db, "_adbc_sqlite",
                        verify_db._adbc_sqlite if adbc else (lambda engine: None))
    schema = hostile_schema(tmp_path)
    url = f"sqlite:///{tmp_path / 'x.db'}"
    engine = create_engine(url)
    rows = [{"atena_no": str(i), HOSTILE_COLUMN: f"name {i}"} for i in range(10)]
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE victim (x INTEGER)")
        table = table_for(schema, sa.MetaData(), HOSTILE_TABLE)
        table.create(conn)
        conn.execute(table.insert(), rows)
    frame = pl.DataFrame(rows).select(
        pl.col("atena_no").alias("key0"), pl.col("atena_no"), pl.col(HOSTILE_COLUMN))
    expected = verify_db._fingerprint(iter([frame]), schema)
    assert verify_db._db_fingerprint(engine, schema, HOSTILE_TABLE) == expected
    with engine.connect() as conn:
        assert sa.inspect(conn).has_table("victim")
    engine.dispose()
