"""What the SQL sink sums up while it loads equals what the database computes from the staging
table, for every kind of value (SQLite and PostgreSQL, see the db_url fixture); a change to
any stored value changes the figures."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import polars as pl
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from migrate.layouts import load_schema
from migrate.sinks.loadproof import LoadProof, row_texts, staged_proof
from migrate.sinks.sql import SqlSink, _adbc_sqlite, connect
from migrate.transform.mapper import polars_dtype

KINDS = """layout: kinds/v1
title: {ja: 型, en: kinds}
primary_key: [ban]
columns:
  - {name: ban, ja: 番号, en: number, dtype: int, required: true}
  - {name: namae, ja: 名前, en: name, dtype: str, max_length: 40}
  - {name: kubun, ja: 区分, en: kind, dtype: code, codes: kubun.csv}
  - {name: bango, ja: 番号, en: digits, dtype: digits, max_length: 10}
  - {name: hi, ja: 日, en: day, dtype: date}
  - {name: umare, ja: 生年, en: partial, dtype: partial_date}
  - {name: gaku, ja: 金額, en: amount, dtype: decimal, precision: 12}
  - {name: ritsu, ja: 率, en: rate, dtype: decimal, precision: 6, scale: 2}
  - {name: flag, ja: 旗, en: flag, dtype: flag}
"""


@pytest.fixture(scope="module")
def kinds(tmp_path_factory):
    path = tmp_path_factory.mktemp("kinds") / "kinds.yaml"
    path.write_text(KINDS, encoding="utf-8")
    (path.parent / "kubun.csv").write_text("code,label_ja,label_en\n1,一,one\n2,二,two\n", encoding="utf-8")
    return load_schema(path)


def frame(kinds, names: list[str | None]) -> pl.DataFrame:
    n = len(names)
    data = {"ban": list(range(n)), "namae": names,
            "kubun": [("1", "2", None)[i % 3] for i in range(n)],
            "bango": [None if i % 4 == 0 else f"{i:07d}" for i in range(n)],
            "hi": [None if i % 5 == 0 else date(1900 + i % 120, 1 + i % 12, 1 + i % 28)
                   for i in range(n)],
            "umare": [("1950", "1950-05", "1950-05-12", None)[i % 4] for i in range(n)],
            "gaku": [None if i % 6 == 0 else (i * 7919) % 100_000 - 50_000 for i in range(n)],
            "ritsu": [None if i % 7 == 0 else Decimal(i % 10_000).scaleb(-2)
                      for i in range(n)],
            "flag": [(0, 1, None)[i % 3] for i in range(n)]}
    return pl.DataFrame(data, schema={c.name: polars_dtype(c) for c in kinds.columns})


def staged(sink: SqlSink):
    with connect(sink.engine) as conn:
        return staged_proof(conn, sink.schema, sink.staging.name, _adbc_sqlite(sink.engine))


def load(url, schema, *frames) -> SqlSink:
    sink = SqlSink(url, schema, run_id="proof")
    for part in frames:
        sink.write(part)
    sink.commit()
    return sink


def test_the_sent_figures_equal_the_staged_ones_for_every_kind_of_value(db_url, kinds):
    tricky = ["山田\u3000太郎", 'a "quoted" name', "back\\slash", "", None, "tab\there",
              "new\nline", "bell\x07", "𠮷野家", "trailing ", "null", "[1,2]"]
    names = [tricky[i % len(tricky)] for i in range(300)]
    sink = load(db_url, kinds, frame(kinds, names).slice(0, 120), frame(kinds, names).slice(120))
    try:
        found = staged(sink)
        assert found.rows == sink.proof.rows == 300
        assert found.totals == sink.proof.totals()
        assert found.fingerprint == sink.proof.fingerprint()
    finally:
        sink.close()


@pytest.mark.parametrize("change", [
    "UPDATE {t} SET namae = '山田\u3000次郎' WHERE ban = 0",   # same length, same totals
    "UPDATE {t} SET namae = NULL WHERE namae = ''",
    "UPDATE {t} SET namae = '' WHERE ban = 4",                 # NULL became ''
    "DELETE FROM {t} WHERE ban = 7",
    "UPDATE {t} SET kubun = CASE kubun WHEN '1' THEN '2' WHEN '2' THEN '1' END "
    "WHERE ban IN (0, 1)",                                      # swapped: totals unchanged
])
def test_a_changed_staged_row_changes_the_hash_sum(db_url, kinds, change):
    names = ["山田\u3000太郎", "佐藤\u3000花子", "", None, None] * 20
    sink = load(db_url, kinds, frame(kinds, names))
    try:
        with connect(sink.engine) as conn:
            conn.exec_driver_sql(change.format(t=sink.quote(sink.staging.name)))
            conn.commit()
        assert staged(sink).fingerprint != sink.proof.fingerprint()
    finally:
        sink.close()


def test_proofs_of_several_loads_merge_into_the_proof_of_all(kinds):
    names = [f"名{i}" for i in range(50)]
    whole = LoadProof(kinds, "sqlite")
    whole.add(frame(kinds, names))
    first, second = LoadProof(kinds, "sqlite"), LoadProof(kinds, "sqlite")
    first.add(frame(kinds, names).slice(0, 20))
    second.add(frame(kinds, names).slice(20))
    merged = first.merge(second)
    assert merged.fingerprint() == whole.fingerprint()
    assert merged.totals() == whole.totals()
    assert LoadProof(kinds, "sqlite").totals()["gaku"] == {"non_null": 0, "sum": 0}


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(st.none(), st.text(max_size=12)), min_size=1, max_size=8))
def test_row_texts_are_what_sqlite_renders(kinds, names):
    """Any text (quotes, backslashes, controls, astral characters) renders as SQLite's
    json_array renders it."""
    names = [n.replace("\x00", "") if n is not None else None for n in names]
    rows = frame(kinds, names)
    texts = row_texts(rows, kinds, "sqlite").to_list()
    engine = sa.create_engine("sqlite://")
    with engine.connect() as conn:
        for row, text in zip(rows.iter_rows(), texts, strict=True):
            values = [v.isoformat() if isinstance(v, date) else
                      (str(v) if isinstance(v, Decimal) else v) for v in row]
            values[6] = None if row[6] is None else int(row[6])  # INTEGER in SQLite
            marks = ", ".join("?" * len(values))
            assert conn.exec_driver_sql(f"SELECT json_array({marks})",
                                        tuple(values)).scalar() == text
    engine.dispose()
