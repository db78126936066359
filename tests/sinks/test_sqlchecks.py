"""The length CHECKs count characters as the pipeline does: a variation selector (IVS) is part
of the character before it, in SQLite (no regular expressions: replace() and bytes) and in
PostgreSQL (regexp_replace), for `max_length` and `length`; VARCHAR leaves room for it."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from migrate.layouts import load_schema
from migrate.layouts.characters import char_length
from migrate.sinks.sql import table_for
from migrate.validate.rows import Validator

SCHEMA = """
layout: t/v1
title: {ja: テスト, en: Test}
primary_key: [id]
columns:
  - {name: id, ja: 番号, en: Id, dtype: int, required: true}
  - {name: upto, ja: 氏名, en: Name, dtype: str, max_length: 3}
  - {name: exact, ja: 記号, en: Sign, dtype: str, length: 3}
"""

IVS, SVS = "葛\U000e0100", "辶\ufe00"
VALUES = [
    "山田太", "山田太郎", IVS + "城山", IVS + "城山田", IVS * 3, IVS * 4, "𠮷野屋",  # 𠮷: 4 bytes
    SVS + "山田", SVS + "山田太", "葛\U000e01ef城山", "葛\U000e01ef城山田",  # the last IVS
    "葛\U000e0140城山", "葛\U000e0180城山", "葛\U000e01c0城山",  # each 3-byte prefix
    "葛\ufe0f城山", "\ufe10山田",  # U+FE0F the last selector; U+FE10 a character of its own
    "\U000e0001山田", "\U000e00ff山田",  # tags and the code point before the selectors
    "山\U000e0100\U000e0101田", "", "a",
]


@pytest.fixture
def schema(tmp_path: Path):
    (tmp_path / "schema.yaml").write_text(SCHEMA, encoding="utf-8")
    return load_schema(tmp_path / "schema.yaml")


def pipeline_accepts(schema, column: str, value: str) -> bool:
    frame = pl.DataFrame({"id": [1], "upto": [None], "exact": [None], "__record": [1],
                          "__offset": [0]},
                         schema={"id": pl.Int64, "upto": pl.Utf8, "exact": pl.Utf8,
                                 "__record": pl.Int64, "__offset": pl.Int64})
    frame = frame.with_columns(pl.lit(value, pl.Utf8).alias(column))
    errors, _ = Validator(schema, {}).validate(frame)
    return errors.is_empty()


def database_accepts(engine: sa.Engine, table: sa.Table, column: str, value: str) -> bool:
    try:
        with engine.begin() as conn:
            conn.execute(table.insert().values(id=1, **{column: value}))
            conn.execute(table.delete())
    except (sa.exc.IntegrityError, sa.exc.DataError):  # a CHECK, or VARCHAR(n)
        return False
    return True


@pytest.mark.parametrize("column", ["upto", "exact"])
def test_database_and_pipeline_count_alike(db_url, schema, column: str) -> None:
    engine = sa.create_engine(db_url)
    table = table_for(schema, sa.MetaData(), dialect=engine.dialect.name)
    table.create(engine)
    try:
        verdicts = [(v, pipeline_accepts(schema, column, v),
                     database_accepts(engine, table, column, v)) for v in VALUES]
    finally:
        engine.dispose()
    assert [(v, p) for v, p, d in verdicts if p != d] == []
    limit = 3
    accepted = {v for v, p, _ in verdicts if p}
    assert accepted == {v for v in VALUES if (char_length(v) <= limit if column == "upto"
                                              else char_length(v) == limit)}
    assert IVS * 3 in accepted and IVS * 4 not in accepted  # 6 code points, 3 characters


def test_varchar_leaves_room_for_a_selector_after_each_character(schema) -> None:
    table = table_for(schema, sa.MetaData())
    assert table.c.upto.type.length == 6 and table.c.exact.type.length == 6
