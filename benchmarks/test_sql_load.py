"""Rows per second of the SQL sink: accepted resident rows loaded into SQLite and PostgreSQL.

Sized by --bench-rows; the rows come from one real run over the generated file, so they are
exactly what `migrate run` loads. The PostgreSQL case needs MIGRATE_TEST_PG_URL (skipped without
it on a workstation, failing under CI, like the tests). Each round is a full sink life: staging
table, chunk-by-chunk bulk load (COPY / executemany), swap, re-count. After the rounds, the table
is re-read and its rows' fingerprint compared with the Parquet input's (no timing is asserted).
"""

from __future__ import annotations

import polars as pl
import pytest
from compare import load_frame  # benchmarks/compare.py, beside this file
from oracle import frame_fingerprint, table_fingerprint

from migrate.run.pipeline import RunOptions, run

CHUNK_ROWS = 75_000  # about what one 32 MB input chunk yields


@pytest.fixture(scope="module")
def accepted(tmp_path_factory, bench_mapping, bench_file) -> pl.DataFrame:
    out = tmp_path_factory.mktemp("sql_load")
    result = run(RunOptions(bench_mapping, bench_file, out, db_url="none"))
    assert result.ledger.accepted > 0
    return pl.read_parquet(result.run_json.parent / f"{bench_mapping.target.name}.parquet")


def _load(url: str, schema, frame: pl.DataFrame) -> int:
    sink = load_frame(url, schema, frame, CHUNK_ROWS)
    counted = sink.count()
    sink.close()
    return counted


def test_load_rows_per_second(benchmark, db_url, bench_mapping, accepted):
    counted = benchmark.pedantic(_load, args=(db_url, bench_mapping.target, accepted),
                                 rounds=3, iterations=1, warmup_rounds=0)
    assert counted == accepted.height
    columns = bench_mapping.target.column_names
    assert table_fingerprint(db_url, bench_mapping.target.name, columns) == \
        frame_fingerprint(accepted.select(columns))
    if benchmark.stats:  # None with --benchmark-disable
        seconds = benchmark.stats.stats.min
        benchmark.extra_info["rows"] = accepted.height
        benchmark.extra_info["rows_per_s"] = round(accepted.height / seconds)
