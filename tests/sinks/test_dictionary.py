"""What a DBA finds beside the tables, on SQLite and PostgreSQL: the migrate_columns data
dictionary and the indexes on referencing columns, published with the tables; COMMENTs on
PostgreSQL."""

from __future__ import annotations

import polars as pl
import pytest
import sqlalchemy as sa

from migrate.layouts import load_schema
from migrate.sinks.dictionary import DICTIONARY_TABLE
from migrate.sinks.sql import SqlSink
from migrate.sinks.swap import discard_tables, load_table, publish_tables

PARENT = """layout: oya/v1
title: {ja: 親, en: parent}
primary_key: [atena_no]
columns:
  - {name: atena_no, ja: 宛名番号, en: resident id, dtype: digits, max_length: 15,
     required: true, pii: id}
  - {name: shimei, ja: 氏名, en: name, dtype: str, max_length: 50, pii: name}
"""
CHILD = """layout: kazoku/v1
title: {ja: 子, en: child}
primary_key: [atena_no]
columns:
  - {name: atena_no, ja: 宛名番号, en: resident id, dtype: digits, max_length: 15,
     required: true}
  - name: parent_no
    ja: 親の宛名番号
    en: parent id
    dtype: digits
    max_length: 15
    references: {layout: ../oya/v1.yaml, column: atena_no}
  - {name: kingaku, ja: 金額, en: amount, dtype: decimal, precision: 12}
"""


@pytest.fixture
def family(tmp_path):
    for name, text in (("oya", PARENT), ("kazoku", CHILD)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "v1.yaml").write_text(text, encoding="utf-8")
    return load_schema(tmp_path / "oya" / "v1.yaml"), load_schema(tmp_path / "kazoku" / "v1.yaml")


def parents(*keys: int) -> pl.DataFrame:
    return pl.DataFrame({"atena_no": [str(k) for k in keys],
                         "shimei": [f"山田　{k}" for k in keys]})


def children(*pairs: tuple[int, int]) -> pl.DataFrame:
    return pl.DataFrame({"atena_no": [str(a) for a, _ in pairs],
                         "parent_no": [str(p) for _, p in pairs],
                         "kingaku": [1000 * a for a, _ in pairs]},
                        schema={"atena_no": pl.Utf8, "parent_no": pl.Utf8,
                                "kingaku": pl.Decimal(12, 0)})


def load(url: str, schema, frame: pl.DataFrame) -> None:
    sink = SqlSink(url, schema)
    sink.write(frame)
    load_table(sink)
    sink.close()


def dictionary(url: str) -> list[tuple]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.exec_driver_sql(
            f"SELECT table_name, column_name, position, ja, en, dtype, sql_type, pii "
            f"FROM {DICTIONARY_TABLE} ORDER BY table_name, position")]
    engine.dispose()
    return rows


def test_every_published_column_is_in_the_dictionary(db_url, family):
    oya, kazoku = family
    load(db_url, oya, parents(1, 2))
    load(db_url, kazoku, children((10, 1)))
    integer = "INTEGER" if db_url.startswith("sqlite") else "NUMERIC(12, 0)"
    assert dictionary(db_url) == [
        ("kazoku", "atena_no", 1, "宛名番号", "resident id", "digits", "VARCHAR(15)", None),
        ("kazoku", "parent_no", 2, "親の宛名番号", "parent id", "digits", "VARCHAR(15)", None),
        ("kazoku", "kingaku", 3, "金額", "amount", "decimal", integer, None),
        ("oya", "atena_no", 1, "宛名番号", "resident id", "digits", "VARCHAR(15)", "id"),
        ("oya", "shimei", 2, "氏名", "name", "str", "VARCHAR(100)", "name"),
    ]
    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        pk = sa.inspect(conn).get_pk_constraint(DICTIONARY_TABLE)
    engine.dispose()
    assert pk["constrained_columns"] == ["table_name", "column_name"]
    assert pk["name"] == f"{DICTIONARY_TABLE}_pkey"


def test_a_republished_table_replaces_only_its_own_rows(db_url, family, tmp_path):
    oya, kazoku = family
    load(db_url, oya, parents(1))
    load(db_url, kazoku, children((10, 1)))
    (tmp_path / "oya" / "v1.yaml").write_text(PARENT.replace("氏名", "氏名（漢字）"),
                                              encoding="utf-8")
    load(db_url, load_schema(tmp_path / "oya" / "v1.yaml"), parents(1))
    rows = dictionary(db_url)
    assert [r[:2] for r in rows] == [("kazoku", "atena_no"), ("kazoku", "parent_no"),
                                     ("kazoku", "kingaku"), ("oya", "atena_no"),
                                     ("oya", "shimei")]
    assert rows[-1][3] == "氏名（漢字）"


def test_a_discarded_run_leaves_the_dictionary_as_it_was(db_url, family):
    oya, _ = family
    load(db_url, oya, parents(1))
    before = dictionary(db_url)
    sink = SqlSink(db_url, oya, run_id="gone")
    sink.write(parents(2))
    sink.commit()
    discard_tables(db_url, [sink])
    assert dictionary(db_url) == before


def test_a_failed_publish_writes_no_dictionary_row(db_url, family):
    oya, kazoku = family
    load(db_url, oya, parents(1))
    sink = SqlSink(db_url, kazoku)
    sink.write(children((10, 99)))  # an orphan: the foreign key refuses the publish
    sink.commit()
    with pytest.raises(Exception, match="cannot be replaced"):
        publish_tables(db_url, [sink])
    discard_tables(db_url, [sink])
    assert {r[0] for r in dictionary(db_url)} == {"oya"}


def test_referencing_columns_are_indexed(db_url, family):
    oya, kazoku = family
    load(db_url, oya, parents(1))
    load(db_url, kazoku, children((10, 1), (11, 1)))
    load(db_url, kazoku, children((12, 1)))  # a re-run re-creates the index by its name
    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        indexes = sa.inspect(conn).get_indexes("kazoku")
        parent_indexes = sa.inspect(conn).get_indexes("oya")
    engine.dispose()
    assert [(i["name"], i["column_names"]) for i in indexes] == [
        ("kazoku_parent_no_idx", ["parent_no"])]
    assert parent_indexes == []  # its primary key is indexed already


def test_postgresql_comments_carry_the_japanese_names(pg_url, family):
    oya, _ = family
    load(pg_url, oya, parents(1))
    engine = sa.create_engine(pg_url)
    with engine.connect() as conn:
        inspector = sa.inspect(conn)
        table = inspector.get_table_comment("oya")["text"]
        columns = {c["name"]: c["comment"] for c in inspector.get_columns("oya")}
        dictionary_comment = inspector.get_table_comment(DICTIONARY_TABLE)["text"]
    engine.dispose()
    assert table == "親"
    assert columns == {"atena_no": "宛名番号", "shimei": "氏名"}
    assert dictionary_comment == "移行した表の列の一覧（データ辞書）"
