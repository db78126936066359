"""PostgreSQL loads a staging table over two COPY streams inside the one publish point: the
table is made and committed, both streams load, the load is verified, then swapped in."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

import migrate.sinks.copystreams as copystreams
from migrate.layouts import load_schema
from migrate.sinks.loadproof import staged_proof
from migrate.sinks.sql import SqlSink, connect
from migrate.sinks.swap import publish_tables
from tests.sinks.test_sql import rows, table_names


@pytest.fixture(scope="module")
def schema():
    return load_schema("juki/v1")


def _backends(monkeypatch) -> list[int]:
    """The server process of each COPY stream that sent a part."""
    seen: list[int] = []
    stream = copystreams.CopySession._stream

    def spy(conn, sql, part):
        seen.append(conn.connection.driver_connection.info.backend_pid)
        stream(conn, sql, part)

    monkeypatch.setattr(copystreams.CopySession, "_stream", staticmethod(spy))
    return seen


def test_two_streams_load_one_staging_table_and_it_verifies(pg_url, schema, monkeypatch):
    backends = _backends(monkeypatch)
    sink = SqlSink(pg_url, schema, run_id="two")
    assert sink.staging.name in table_names(pg_url)  # made and committed before the load
    sink.write(rows(schema, range(5000)))
    sink.write(rows(schema, range(5000, 5100)))  # small: one stream
    sink.commit()
    assert len(set(backends)) == 2 and len(backends) == 3
    with connect(sink.engine) as conn:
        staged = staged_proof(conn, schema, sink.staging.name)
    assert staged.rows == 5100 and staged.fingerprint == sink.proof.fingerprint()
    publish_tables(pg_url, [sink])
    assert sink.count() == 5100
    assert "juki" in table_names(pg_url) and sink.staging.name not in table_names(pg_url)


def test_a_failing_stream_rolls_every_stream_back_and_drops_the_staging_table(pg_url, schema):
    good = rows(schema, range(4000))
    bad = rows(schema, range(4000, 8000), lg_code=["1234567"] * 4000)  # too long: refused
    sink = SqlSink(pg_url, schema, run_id="bad")
    sink.write(good)
    with pytest.raises(sa.exc.DBAPIError):
        sink.write(good.vstack(bad))  # the second stream's part fails
    sink.abort()
    assert sink.staging.name not in table_names(pg_url)
    assert "juki" not in table_names(pg_url)
