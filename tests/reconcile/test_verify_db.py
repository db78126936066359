"""Reconciliation re-counted from the database, after a run and later (`migrate reconcile`),
against SQLite and PostgreSQL: a deleted, altered or added row is found and its key named."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from migrate.cli import main
from migrate.reconcile.verify_db import verify_database
from migrate.report.reconciliation import describe
from migrate.run.pipeline import RunOptions, run
from migrate.synth.generate import generate

ROWS = 600
DEFECTS = 6


@pytest.fixture(scope="module")
def generated(tmp_path_factory, juki_mapping) -> Path:
    path = tmp_path_factory.mktemp("in") / "juki.dat"
    generate(juki_mapping, path, ROWS, seed=5, defects=DEFECTS)
    return path


@pytest.fixture
def loaded(tmp_path, juki_mapping, generated, db_url):
    """A finished run into the database under test: (out dir, db url, result)."""
    out = tmp_path / "out"
    url = None if db_url.startswith("sqlite") else db_url  # SQLite: the default OUT/migrate.db
    result = run(RunOptions(juki_mapping, generated, out, db_url=url))
    return out, url or f"sqlite:///{out / 'migrate.db'}", result


def reconcile(runner, out: Path, url: str, *more: str):
    return runner.invoke(main, ["reconcile", str(out), "--db", url, *more])


def failed(output: str) -> set[str]:
    """The ids of the checks printed as FAILED: `FAILED <words> (<id>): expected …`."""
    return {line.split("FAILED ", 1)[1].split("):", 1)[0].rsplit("(", 1)[-1]
            for line in output.splitlines() if "FAILED " in line and "):" in line}


def execute(url: str, sql: str, **params) -> list:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        result = conn.execute(sa.text(sql), params)
        rows = result.all() if result.returns_rows else []
    engine.dispose()
    return rows


def keys_and_names(url: str, n: int) -> list[tuple[str, str]]:
    return [tuple(r) for r in execute(
        url, f"SELECT atena_no, shimei FROM juki ORDER BY atena_no LIMIT {n}")]


def test_run_reconciles_against_the_database(loaded, juki_mapping):
    out, url, result = loaded
    assert result.exit_code == 0
    ledger = result.ledger
    assert ledger.accepted == ROWS - DEFECTS
    assert next(i for i in ledger.invariants if i.name == "sink_rows:database").ok
    check = verify_database(url, juki_mapping.target, out / "juki.parquet", ledger.accepted)
    assert check.ok, [i for i in check.invariants if not i.ok]
    names = {i.name for i in check.invariants}
    assert {"db_rows:juki", "parquet_rows:juki", "db_row_hash:juki",
            "db_totals:juki.birth_date", "db_totals:juki.setai_order"} <= names
    totals = next(i for i in check.invariants if i.name == "db_totals:juki.idou_date")
    assert set(totals.actual) == {"non_null", "min", "max"}
    birth = next(i for i in check.invariants if i.name == "db_totals:juki.birth_date")
    assert set(birth.actual["min"]) <= set("*-")  # a personal date is never shown


def test_reconcile_command_passes_on_an_untouched_database(runner, loaded):
    out, url, _ = loaded
    result = reconcile(runner, out, url)
    assert result.exit_code == 0, result.output
    assert "FAILED" not in result.output and "db_row_hash:juki" not in result.output
    every = reconcile(runner, out, url, "-v")  # -v lists the checks that passed
    assert every.exit_code == 0 and "(db_row_hash:juki): expected 594 rows, hash" in every.output


def test_deleted_row_is_named(runner, loaded):
    out, url, _ = loaded
    (key, _name), = keys_and_names(url, 1)
    execute(url, "DELETE FROM juki WHERE atena_no = :k", k=key)
    result = reconcile(runner, out, url)
    assert result.exit_code == 1, result.output
    assert "db_rows:juki" in failed(result.output)
    assert f"rows missing in the database (1), atena_no: {key}" in result.output


def test_altered_row_is_named_without_its_values(runner, loaded):
    out, url, _ = loaded
    (k1, name1), (k2, _name2) = keys_and_names(url, 2)
    execute(url, "UPDATE juki SET shimei = :v WHERE atena_no = :k", v="改竄　𠮷子", k=k1)
    execute(url, "UPDATE juki SET idou_date = idou_date + 1 WHERE atena_no = :k"
            if url.startswith("postgresql") else
            "UPDATE juki SET idou_date = date(idou_date, '+1 day') WHERE atena_no = :k", k=k2)
    result = reconcile(runner, out, url)
    assert result.exit_code == 1, result.output
    assert "db_row_hash:juki" in failed(result.output) and "db_rows:juki" not in failed(result.output)
    assert "rows changed in the database (2)" in result.output
    assert f"{k1} (shimei)" in result.output and f"{k2} (idou_date)" in result.output
    assert "改竄" not in result.output and name1 not in result.output


def test_added_row_is_named(runner, loaded, juki_mapping):
    out, url, _ = loaded
    (key, _name), = keys_and_names(url, 1)
    columns = ", ".join(c for c in juki_mapping.target.column_names if c != "atena_no")
    execute(url, f"INSERT INTO juki (atena_no, {columns}) SELECT '999999999', {columns} "
                 "FROM juki WHERE atena_no = :k", k=key)
    result = reconcile(runner, out, url)
    assert result.exit_code == 1, result.output
    assert "rows in the database that the run did not write (1), atena_no: 999999999" \
        in result.output


def test_personal_keys_are_masked(loaded, juki_mapping):
    out, url, result = loaded
    schema = juki_mapping.target
    personal = replace(schema, columns=tuple(replace(c, pii="id") if c.name == "atena_no" else c
                                             for c in schema.columns))
    keys = [k for k, _ in keys_and_names(url, 3)]
    execute(url, "DELETE FROM juki WHERE atena_no IN (:a, :b, :c)", a=keys[0], b=keys[1],
            c=keys[2])
    check = verify_database(url, personal, out / "juki.parquet", result.ledger.accepted)
    assert not check.ok and check.diff.missing_total == 3
    text = "\n".join(line for _, line in describe(check))
    assert all(k not in text for k in keys)
    assert "*********" in text


def test_missing_table_fails(runner, loaded):
    out, url, _ = loaded
    execute(url, "DROP TABLE juki")
    result = reconcile(runner, out, url)
    assert result.exit_code == 1 and "db_table:juki" in failed(result.output)
    assert "(db_table:juki): expected present, found missing" in result.output


def test_default_database_is_the_runs_sqlite_file(runner, tmp_path, juki_mapping, generated):
    out = tmp_path / "out"
    assert run(RunOptions(juki_mapping, generated, out)).exit_code == 0
    assert runner.invoke(main, ["reconcile", str(out)]).exit_code == 0


def test_usage_errors(runner, tmp_path):
    result = runner.invoke(main, ["reconcile", str(tmp_path / "nothing")])
    assert result.exit_code == 2 and "does not exist" in result.output
    result = runner.invoke(main, ["reconcile", str(tmp_path)])
    assert result.exit_code == 2 and "run.json" in result.output
    (tmp_path / "run.json").write_text(json.dumps({
        "schema": {"id": "juki/v1"}, "reconciliation": {"accepted": 1}}))
    result = runner.invoke(main, ["reconcile", str(tmp_path)])
    assert result.exit_code == 2 and "juki.parquet" in result.output
    assert "Traceback" not in result.output


def test_columns_that_start_with_nulls(tmp_path, loaded, juki_mapping):
    """Thousands of NULLs before the first value of a column (ADBC infers SQLite column types
    from the first rows; PostgreSQL's COPY is parsed in batches) still hash the same."""
    out, url, _ = loaded
    from migrate.sinks.sql import SqlSink
    from migrate.sinks.swap import load_table

    base = pl.read_parquet(out / "juki.parquet")
    frame = pl.concat([base.with_columns(pl.format("{}{}", pl.lit(i), pl.col("atena_no"))
                                         .alias("atena_no")) for i in range(1, 10)])
    frame = frame.sort("zairyu_manryo", nulls_last=False)
    assert frame["zairyu_manryo"].head(3000).null_count() == 3000
    parquet = tmp_path / "nulls_first.parquet"
    frame.write_parquet(parquet)
    sink = SqlSink(url, juki_mapping.target)
    sink.write(frame)
    load_table(sink)
    sink.close()
    check = verify_database(url, juki_mapping.target, parquet, frame.height)
    assert check.ok, [i for i in check.invariants if not i.ok]


def test_reconcile_defaults_to_the_database_recorded_in_run_json(runner, loaded):
    out, url, _ = loaded
    doc = json.loads((out / "run.json").read_text())
    doc["database"] = {"url": url}
    (out / "run.json").write_text(json.dumps(doc))
    result = runner.invoke(main, ["reconcile", str(out)])
    assert result.exit_code == 0, result.output
    assert ("postgresql" in result.output) == url.startswith("postgresql")


ZEI = """layout: zei/v1
title: {ja: 税, en: tax}
primary_key: [atena_no]
columns:
  - {name: atena_no, ja: 宛名番号, en: id, dtype: digits, max_length: 15, required: true}
  - {name: amount, ja: 金額, en: amount, dtype: decimal, precision: 12, scale: 2}
  - {name: whole, ja: 整数金額, en: whole yen, dtype: decimal, precision: 12}
  - {name: flag, ja: フラグ, en: flag, dtype: flag}
"""


def test_decimals_are_exact_in_both_databases(tmp_path, db_url):
    """SQLite keeps decimals as exact text; sums and hashes agree with the Parquet file."""
    from decimal import Decimal

    from migrate.layouts import load_schema
    from migrate.sinks.sql import SqlSink
    from migrate.sinks.swap import load_table

    (tmp_path / "zei.yaml").write_text(ZEI, encoding="utf-8")
    schema = load_schema(tmp_path / "zei.yaml")
    amounts = [Decimal("12.30"), Decimal("-0.05"), None, Decimal("100.00"),
               Decimal("9999999999.99")]
    frame = pl.DataFrame({"atena_no": [str(i) for i in range(5)], "amount": amounts,
                          "whole": [Decimal(v) for v in (1, 0, 250000, 7, 3)],
                          "flag": [1, 0, None, 1, 0]},
                         schema={"atena_no": pl.Utf8, "amount": pl.Decimal(12, 2),
                                 "whole": pl.Decimal(12, 0), "flag": pl.Int8})
    parquet = tmp_path / "zei.parquet"
    frame.write_parquet(parquet)
    sink = SqlSink(db_url, schema)
    sink.write(frame)
    load_table(sink)
    sink.close()
    check = verify_database(db_url, schema, parquet, 5)
    assert check.ok, [i for i in check.invariants if not i.ok]
    totals = next(i for i in check.invariants if i.name == "db_totals:zei.amount")
    assert totals.actual == {"non_null": 4, "sum": "10000000112.24"}
    execute(db_url, "UPDATE zei SET amount = '12.31' WHERE atena_no = '0'"
            if db_url.startswith("sqlite") else
            "UPDATE zei SET amount = 12.31 WHERE atena_no = '0'")
    check = verify_database(db_url, schema, parquet, 5)
    assert not check.ok and [k for k, _ in check.diff.changed] == ["0"]


def test_fingerprint_of_a_table_is_the_sum_of_its_parts(juki_mapping):
    """The SQLite side is fingerprinted in two rowid halves at once; that is only right
    because the fingerprint of the rows is the sum of the fingerprints of any split."""
    from migrate.reconcile.verify_db import _fingerprint, _fingerprint_sums, _fingerprint_text

    schema = juki_mapping.target
    frame = pl.DataFrame({c: [f"{c}{i}" if i % 3 else None for i in range(10)]
                          for c in schema.column_names})
    halves = [_fingerprint_sums(iter([part]), schema) for part in (frame[:4], frame[4:])]
    assert _fingerprint_text([sum(p) for p in zip(*halves, strict=True)]) == \
        _fingerprint(iter([frame]), schema)
