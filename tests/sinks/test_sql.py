"""The SQL sink, the same tests against SQLite and PostgreSQL (see the db_url fixture)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from migrate.errors import LayoutError, UsageError
from migrate.layouts import load_schema
from migrate.sinks.dictionary import DICTIONARY_TABLE
from migrate.sinks.sql import SqlSink
from migrate.sinks.swap import load_table
from migrate.transform.mapper import polars_dtype


@pytest.fixture(scope="module")
def schema():
    return load_schema("juki/v1")


def rows(schema, keys, **overrides) -> pl.DataFrame:
    """Valid juki/v1 rows, one per key, with some columns overridden (value or list)."""
    n = len(keys)
    base = {
        "src_record": [k + 2 for k in keys], "lg_code": "131016",
        "atena_no": [f"{k:09d}" for k in keys], "setai_no": [f"{k // 3:09d}" for k in keys],
        "jumin_code": "12345678901", "kojin_no": None, "jumin_shubetsu": "1",
        "jumin_jotai": "1", "shimei": [f"山田　{k}郎" for k in keys], "shimei_kana": "ヤマダ タロウ",
        "shimei_alpha": None, "birth_date": "1950-05-12", "sex": "1", "zokugara": "世帯主",
        "setai_nushi_name": "山田　太郎", "setai_order": 1, "jumin_date": "1975",
        "idou_jiyu": "101", "idou_date": date(2019, 5, 1), "shori_date": date(2019, 5, 7),
        "postal_code": "1000001", "addr_pref": "東京都", "addr_city": "千代田区",
        "addr_town": "千代田", "addr_banchi": "1-1", "addr_katagaki": None, "shojo_jiyu": None,
        "shojo_date": None, "nationality": None, "zairyu_kubun": None, "zairyu_shikaku": None,
        "zairyu_card_no": None, "zairyu_manryo": None,
    }
    base.update(overrides)
    data = {c.name: (base[c.name] if isinstance(base[c.name], list) else [base[c.name]] * n)
            for c in schema.columns}
    return pl.DataFrame(data, schema={c.name: polars_dtype(c) for c in schema.columns})


def load(url, schema, *frames) -> SqlSink:
    sink = SqlSink(url, schema)
    for frame in frames:
        sink.write(frame)
    load_table(sink)
    sink.close()
    return sink


def table(url, schema, name="juki") -> pl.DataFrame:
    """The table read back, typed like the frames, ordered by key."""
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        result = conn.execute(sa.text(f"SELECT * FROM {name} ORDER BY atena_no"))
        records = [tuple(r) for r in result]
    engine.dispose()
    dtypes = {c.name: polars_dtype(c) for c in schema.columns}
    frame = pl.DataFrame(records, schema={c: pl.Object for c in dtypes}, orient="row")
    return pl.DataFrame({c: [date.fromisoformat(v) if isinstance(v, str) and d == pl.Date
                             else v for v in frame[c].to_list()] for c, d in dtypes.items()},
                        schema=dtypes)


def table_names(url) -> set[str]:
    """The tables in the database, the data dictionary aside (tests/sinks/test_dictionary.py)."""
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        names = set(sa.inspect(conn).get_table_names())
    engine.dispose()
    return names - {DICTIONARY_TABLE}


def test_load_in_chunks_and_count(db_url, schema):
    frame = rows(schema, range(1000))
    sink = load(db_url, schema, frame.slice(0, 400), frame.slice(400, 0), frame.slice(400))
    assert sink.count() == 1000
    assert table(db_url, schema).equals(frame)
    assert table_names(db_url) == {"juki"}  # no staging table left


def test_table_and_constraints_come_from_the_schema(db_url, schema):
    load(db_url, schema, rows(schema, range(3)))
    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        inspector = sa.inspect(conn)
        columns = {c["name"]: c for c in inspector.get_columns("juki")}
        pk = inspector.get_pk_constraint("juki")
        checks = {c["name"] for c in inspector.get_check_constraints("juki")}
    engine.dispose()
    assert list(columns) == schema.column_names
    for spec in schema.columns:
        assert columns[spec.name]["nullable"] == (not spec.required), spec.name
    assert pk["constrained_columns"] == ["atena_no"]
    assert pk["name"] == "juki_pkey"  # the next run can reuse it
    assert {"juki_lg_code_len", "juki_sex_code", "juki_idou_jiyu_code", "juki_birth_date_form",
            "juki_jumin_date_form", "juki_setai_order_range"} <= checks
    assert not any("staging" in c for c in checks)


def test_the_staging_table_carries_the_final_constraint_names(db_url, schema):
    """A DBA who looks while a run loads (or at a run's leftovers) sees juki_* names, never
    juki__staging_*: constraint names are per table, so the staging table has the final ones."""
    sink = SqlSink(db_url, schema, run_id="abc123")
    sink.write(rows(schema, range(3)))
    sink.commit()
    try:
        engine = sa.create_engine(db_url)
        with engine.connect() as conn:
            inspector = sa.inspect(conn)
            assert inspector.has_table("juki__staging_abc123")
            checks = {c["name"] for c in inspector.get_check_constraints("juki__staging_abc123")}
            pk = inspector.get_pk_constraint("juki__staging_abc123")
        engine.dispose()
        assert "juki_lg_code_len" in checks and not any("staging" in c for c in checks)
        if db_url.startswith("sqlite"):  # PostgreSQL adds the primary key at the swap
            assert pk["name"] == "juki_pkey"
    finally:
        from migrate.sinks.swap import discard_tables
        discard_tables(db_url, [sink])
    assert table_names(db_url) == set()


@pytest.mark.parametrize("column,value", [
    ("shimei", "長" * 101), ("lg_code", "13101"), ("kojin_no", "1234567890123"),
    ("sex", "3"), ("idou_jiyu", "999"),  # code lists: IN (…)
    ("birth_date", "1950-5"), ("jumin_date", "S50-04-01"), ("birth_date", "19500512"),
    ("setai_order", 0), ("setai_order", 1000),  # min: 1, max: 999
])
def test_database_enforces_lengths_codes_forms_and_ranges(db_url, schema, column, value):
    sink = SqlSink(db_url, schema)
    with pytest.raises((sa.exc.DBAPIError, UsageError)):
        sink.write(rows(schema, range(2), **{column: value}))
        load_table(sink)
    sink.abort()
    assert "juki" not in table_names(db_url)


def test_values_round_trip(db_url, schema):
    """Dates, partial dates (不詳 kept as text, off-calendar kept), ints, NULLs, text outside
    the BMP (𠮷 U+20BB7), half/full-width spaces, quotes and commas (COPY's CSV)."""
    keys = list(range(6))
    frame = rows(
        schema, keys,
        birth_date=["1950", "1950-05", "1950-05-12", "1990-02-29", "1868-01-25", "2024-02-29"],
        jumin_date=["1975", "1975-04", "1975-04-01", "2000-02-30", "1989-01-08", "2019-05-01"],
        shimei=["𠮷田　太郎", "髙橋　はしご", "渡邊　一", '"引用",符', "O'Brien, 太郎", "山\\田"],
        shimei_kana=[None, "ヨシダ タロウ", "", "ｶﾅ", "ヴァ", None],
        src_record=[2, 2**40, 4, 5, 6, 7], setai_order=[1, None, 999, 2, 3, None],
        idou_date=[date(1868, 1, 25), date(1989, 1, 7), date(1989, 1, 8), date(2019, 4, 30),
                   date(2019, 5, 1), date(9999, 12, 31)],
        shojo_date=[None, date(2000, 2, 29), None, None, None, None],
        kojin_no=[None, "123456789018", None, None, None, None],
        addr_katagaki=["ハイツ𠮷野　101号", None, None, None, None, "\u3000全角"],
    )
    load(db_url, schema, frame)
    back = table(db_url, schema)
    assert back.equals(frame), back.to_dicts()
    assert back["shimei"][0] == "𠮷田　太郎" and len(back["shimei"][0]) == 5
    assert back["shimei_kana"][2] == "" and back["shimei_kana"][0] is None  # '' is not NULL


def test_rerun_replaces_the_runs_rows(db_url, schema):
    first = rows(schema, range(10))
    for _ in range(3):  # the same run again: same table, never duplicated
        sink = load(db_url, schema, first)
        assert sink.count() == 10
    second = rows(schema, range(5, 15))
    load(db_url, schema, second)
    assert table(db_url, schema).equals(second)


def test_abort_keeps_the_previous_table(db_url, schema):
    before = rows(schema, range(10))
    load(db_url, schema, before)
    sink = SqlSink(db_url, schema)
    sink.write(rows(schema, range(100, 200)))
    sink.abort()
    assert table(db_url, schema).equals(before)
    assert table_names(db_url) == {"juki"}


def test_failed_load_keeps_the_previous_table(db_url, schema):
    before = rows(schema, range(10))
    load(db_url, schema, before)
    sink = SqlSink(db_url, schema)
    sink.write(rows(schema, range(100, 110)))
    with pytest.raises((sa.exc.IntegrityError, UsageError)):  # a duplicate key in the new
        sink.write(rows(schema, [105]))  # rows: SQLite finds it here, PostgreSQL when the
        load_table(sink)  # primary key is built at the swap
    sink.abort()
    assert table(db_url, schema).equals(before)
    assert table_names(db_url) == {"juki"}


def test_empty_run_replaces_with_an_empty_table(db_url, schema):
    load(db_url, schema, rows(schema, range(10)))
    sink = load(db_url, schema)
    assert sink.count() == 0


def test_view_on_the_table_blocks_the_swap_and_keeps_the_data(pg_url, schema):
    before = rows(schema, range(10))
    load(pg_url, schema, before)
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE VIEW juki_view AS SELECT atena_no FROM juki")
    engine.dispose()
    sink = SqlSink(pg_url, schema)
    sink.write(rows(schema, range(100, 110)))
    with pytest.raises(UsageError) as info:
        load_table(sink)
    assert "juki" in str(info.value)
    assert table(pg_url, schema).equals(before)


def test_unreachable_server_is_a_usage_error(schema):
    with pytest.raises(UsageError) as info:
        SqlSink("postgresql+psycopg://someone:secret@127.0.0.1:1/nothing", schema)
    assert "secret" not in str(info.value) and "127.0.0.1" in str(info.value)


# ---------------------------------------------------------------- decimals

MONEY = """layout: okane/v1
title: {ja: 金額, en: amounts}
primary_key: [ban]
columns:
  - {name: ban, ja: 番号, en: number, dtype: int, required: true}
  - {name: gaku, ja: 金額, en: amount, dtype: decimal, precision: 12, min: 0}
  - {name: soneki, ja: 損益, en: profit or loss, dtype: decimal, precision: 12}
  - {name: ritsu, ja: 税率, en: rate, dtype: decimal, precision: 6, scale: 2, min: 0, max: 100}
"""


@pytest.fixture
def money(tmp_path):
    path = tmp_path / "okane.yaml"
    path.write_text(MONEY, encoding="utf-8")
    return load_schema(path)


def amounts(money, gaku, soneki, ritsu) -> pl.DataFrame:
    from decimal import Decimal
    dtypes = {c.name: polars_dtype(c) for c in money.columns}
    return pl.DataFrame({"ban": list(range(len(gaku))), "gaku": gaku, "soneki": soneki,
                         "ritsu": [None if r is None else Decimal(r) for r in ritsu]},
                        schema=dtypes)


def test_whole_decimals_are_numbers_and_sort_as_numbers(db_url, money):
    """Scale 0: NUMERIC(p,0) on PostgreSQL, INTEGER on SQLite (not text: max() of 9 and 10000
    is 10000, and a sum is exact); scale 2 stays exact (NUMERIC, or the decimal's text on
    SQLite)."""
    load(db_url, money, amounts(money, [9, 10_000, 250, None], [-5, 7, 0, None],
                                ["1.50", "10.00", "0.05", None]))
    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        columns = {c["name"]: c["type"] for c in sa.inspect(conn).get_columns("okane")}
        top, low, total = conn.exec_driver_sql(
            "SELECT max(gaku), min(soneki), sum(gaku) FROM okane").one()
        ritsu = conn.exec_driver_sql("SELECT ritsu FROM okane ORDER BY ban").scalars().all()
        checks = {c["name"] for c in sa.inspect(conn).get_check_constraints("okane")}
    engine.dispose()
    assert (int(top), int(low), int(total)) == (10_000, -5, 10_259)
    if db_url.startswith("sqlite"):
        assert str(columns["gaku"]) == "INTEGER" and str(columns["soneki"]) == "INTEGER"
        assert str(columns["ritsu"]) == "TEXT" and ritsu[:3] == ["1.50", "10.00", "0.05"]
    else:
        assert str(columns["gaku"]) == "NUMERIC(12, 0)"
        assert str(columns["ritsu"]) == "NUMERIC(6, 2)"
        assert [str(r) for r in ritsu[:3]] == ["1.50", "10.00", "0.05"]
    assert {"okane_gaku_range", "okane_ritsu_range"} <= checks
    assert "okane_soneki_range" not in checks  # no min/max: a loss may be negative


@pytest.mark.parametrize("column,value", [("gaku", -1), ("ritsu", "100.01"), ("ritsu", "-0.01")])
def test_database_enforces_min_and_max_of_decimals(db_url, money, column, value):
    values = {"gaku": [1, 2], "soneki": [0, 0], "ritsu": ["1.00", "2.00"]}
    values[column] = [values[column][0], value]
    sink = SqlSink(db_url, money)
    with pytest.raises((sa.exc.DBAPIError, UsageError)):
        sink.write(amounts(money, **values))
        load_table(sink)
    sink.abort()
    assert "okane" not in table_names(db_url)


# ---------------------------------------------------------------- references → foreign keys

PARENT = """layout: {name}/v1
title: {{ja: 親, en: parent}}
primary_key: [atena_no]
columns:
  - {{name: atena_no, ja: 宛名番号, en: id, dtype: digits, max_length: 15, required: true}}
"""
CHILD = """layout: kazoku/v1
title: {ja: 子, en: child}
primary_key: [atena_no]
columns:
  - {name: atena_no, ja: 宛名番号, en: id, dtype: digits, max_length: 15, required: true}
  - name: parent_no
    ja: 親の宛名番号
    en: parent id
    dtype: digits
    max_length: 15
    references: {layout: ../oya/v1.yaml, column: atena_no}
"""


@pytest.fixture
def family(tmp_path) -> tuple:
    (tmp_path / "oya").mkdir()
    (tmp_path / "kazoku").mkdir()
    (tmp_path / "oya" / "v1.yaml").write_text(PARENT.format(name="oya"), encoding="utf-8")
    (tmp_path / "kazoku" / "v1.yaml").write_text(CHILD, encoding="utf-8")
    return load_schema(tmp_path / "oya" / "v1.yaml"), load_schema(tmp_path / "kazoku" / "v1.yaml")


def keys(*values) -> pl.DataFrame:
    return pl.DataFrame({"atena_no": [str(v) for v in values]})


def children(*pairs) -> pl.DataFrame:
    return pl.DataFrame({"atena_no": [str(a) for a, _ in pairs],
                         "parent_no": [None if p is None else str(p) for _, p in pairs]},
                        schema={"atena_no": pl.Utf8, "parent_no": pl.Utf8})


def count(url, name) -> int:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        n = conn.exec_driver_sql(f"SELECT COUNT(*) FROM {name}").scalar()
    engine.dispose()
    return int(n)


def test_reference_becomes_a_foreign_key(db_url, family):
    oya, kazoku = family
    assert kazoku.column("parent_no").references.layout == "oya/v1"
    load(db_url, oya, keys(1, 2, 3))
    load(db_url, kazoku, children((10, 1), (11, 2), (12, None)))
    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        fks = sa.inspect(conn).get_foreign_keys("kazoku")
    engine.dispose()
    assert [(f["referred_table"], f["referred_columns"]) for f in fks] == [("oya", ["atena_no"])]


def test_orphan_reference_fails_the_load_and_keeps_the_table(db_url, family):
    oya, kazoku = family
    load(db_url, oya, keys(1, 2, 3))
    load(db_url, kazoku, children((10, 1)))
    sink = SqlSink(db_url, kazoku)
    with pytest.raises((sa.exc.IntegrityError, UsageError)):
        sink.write(children((10, 1), (11, 9)))  # PostgreSQL checks here,
        load_table(sink)  # SQLite when the table is swapped in
    sink.abort()
    assert count(db_url, "kazoku") == 1


def test_reloading_the_referenced_table(db_url, family):
    oya, kazoku = family
    load(db_url, oya, keys(1, 2, 3))
    load(db_url, kazoku, children((10, 1), (11, 2)))
    load(db_url, oya, keys(1, 2, 3, 4))  # the foreign key is re-created on the new table
    assert count(db_url, "oya") == 4
    sink = SqlSink(db_url, oya)
    sink.write(keys(1, 3))  # would orphan child 11
    with pytest.raises(UsageError):
        load_table(sink)
    assert count(db_url, "oya") == 4 and count(db_url, "kazoku") == 2
    sink = SqlSink(db_url, kazoku)  # the foreign key still guards the child table
    with pytest.raises((sa.exc.IntegrityError, UsageError)):
        sink.write(children((10, 7)))
        load_table(sink)
    sink.abort()


def test_reference_must_name_a_primary_key(tmp_path):
    (tmp_path / "oya").mkdir()
    (tmp_path / "oya" / "v1.yaml").write_text(PARENT.format(name="oya"), encoding="utf-8")
    bad = CHILD.replace("column: atena_no}", "column: shimei}")
    path = tmp_path / "kazoku.yaml"
    path.write_text(bad.replace("../oya/v1.yaml", "oya/v1.yaml"), encoding="utf-8")
    with pytest.raises(LayoutError) as info:
        load_schema(path)
    assert info.value.line == 11


def test_default_sqlite_file_is_private(tmp_path, schema):
    path: Path = tmp_path / "deep" / "migrate.db"
    load(f"sqlite:///{path}", schema, rows(schema, range(2)))
    assert path.stat().st_mode & 0o077 == 0


def test_sqlite_without_adbc_uses_executemany(tmp_path, schema, monkeypatch):
    """The fallback path (no ADBC driver installed) loads, replaces and aborts the same way."""
    import migrate.sinks.sql as sql

    monkeypatch.setattr(sql, "USE_ADBC", False)
    url = f"sqlite:///{tmp_path / 'plain.db'}"
    frame = rows(schema, range(6), shimei=["𠮷田　太郎", "", "a", "b", "c", "d"],
                 birth_date=["1950", "1950-05", "1990-02-29", "2000-01-01", "1868", "2019-05"])
    sink = load(url, schema, frame.slice(0, 3), frame.slice(3))
    assert isinstance(sink.session, type(None)) and sink.count() == 6
    assert table(url, schema).equals(frame)
    sink = SqlSink(url, schema)
    assert isinstance(sink.session, sql._Session)
    sink.write(rows(schema, range(100, 110)))
    sink.abort()
    assert table(url, schema).equals(frame)
    assert table_names(url) == {"juki"}


def test_postgresql_without_its_driver_names_the_extra(monkeypatch):
    """psycopg is in the `postgres` extra: without it, a postgresql:// URL says what to install."""
    import builtins

    from migrate.sinks.sql import create_engine

    real_import = builtins.__import__

    def no_psycopg(name, *args, **kwargs):
        if name == "psycopg" or name.startswith("psycopg."):
            raise ModuleNotFoundError(f"No module named '{name}'", name=name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_psycopg)
    with pytest.raises(UsageError) as caught:
        create_engine("postgresql+psycopg://user:secret@127.0.0.1:5432/town")
    text = str(caught.value)
    assert "migrate[postgres]" in text
    assert "secret" not in text
