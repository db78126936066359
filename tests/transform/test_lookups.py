"""Lookups: 世帯主氏名 from the record with the same 世帯番号 whose 続柄 is 世帯主, wherever that
record is in the file (other chunks, before or after), and the rejects when there is none or
more than one."""

from __future__ import annotations

from pathlib import Path

import pytest

from migrate.errors import LayoutError

SCHEMA = """
layout: l/v1
title: {ja: テスト, en: Test}
primary_key: [id]
columns:
  - {name: id, ja: 番号, en: Id, dtype: digits, length: 4, required: true}
  - {name: setai_no, ja: 世帯番号, en: Household, dtype: digits, required: true}
  - {name: shimei, ja: 氏名, en: Name, dtype: str, pii: name, required: true}
  - {name: nushi, ja: 世帯主氏名, en: Head, dtype: str, pii: name, required: true}
"""

MAPPING = """
mapping: test/lookups
target: schema.yaml
source: {format: fixed, encoding: cp932, record_length: 20, newline: lf}
fields:
  id:       {offset: 0, length: 4, type: digits}
  setai_no: {offset: 4, length: 4, type: digits}
  zokugara: {offset: 8, length: 2, type: text}
  shimei:   {offset: 10, length: 10, type: text}
columns:
  id: id
  setai_no: setai_no
  shimei: shimei
  nushi: {lookup: {match: setai_no, where: {zokugara: "01"}, take: shimei}}
"""


def write(tmp_path: Path, records: list[tuple[str, str, str, bytes]]) -> Path:
    path = tmp_path / "in.dat"
    path.write_bytes(b"".join((a + b + c).encode() + name.ljust(10) + b"\n"
                              for a, b, c, name in records))
    return path


def name(text: str) -> bytes:
    return text.encode("cp932")


@pytest.mark.parametrize("chunk_bytes", [1 << 20, 42])  # one chunk; two records per chunk
def test_the_head_is_found_in_any_chunk_before_or_after(inline_mapping, tmp_path: Path,
                                                        convert, chunk_bytes: int) -> None:
    mapping = inline_mapping(SCHEMA, MAPPING)
    path = write(tmp_path, [("0001", "0010", "02", name("山田花子")),   # head comes later
                            ("0002", "0020", "01", name("鈴木一郎")),
                            ("0003", "0010", "03", name("山田次郎")),
                            ("0004", "0010", "01", name("山田太郎")),
                            ("0005", "0020", "02", name("鈴木和子"))])
    result, rows, rejects = convert(mapping, path, tmp_path / "out", chunk_bytes=chunk_bytes)
    assert result.exit_code == 0 and rejects.height == 0
    assert rows.select("id", "nushi").rows() == [
        ("0001", "山田太郎"), ("0002", "鈴木一郎"), ("0003", "山田太郎"), ("0004", "山田太郎"),
        ("0005", "鈴木一郎")]


def test_no_head_and_two_heads_are_rejected_naming_the_records(inline_mapping, tmp_path: Path,
                                                               convert) -> None:
    mapping = inline_mapping(SCHEMA, MAPPING)
    path = write(tmp_path, [("0001", "0010", "02", name("山田花子")),   # no head in 0010
                            ("0002", "0020", "01", name("鈴木一郎")),   # two heads in 0020
                            ("0003", "0020", "01", name("鈴木和子")),
                            ("0004", "0030", "01", b"\xf0\x45"),      # the head's name fails
                            ("0005", "0030", "03", name("佐藤次郎"))])
    result, _, rejects = convert(mapping, path, tmp_path / "out", chunk_bytes=42)
    found = rejects.select("record", "column", "reason", "value", "detail").rows()
    assert found == [
        ("1", "nushi", "lookup_missing", "setai_no=0010",
         "no record with the same setai_no has zokugara=01"),
        ("2", "nushi", "lookup_ambiguous", "setai_no=0020",
         "2 records with the same setai_no have zokugara=01: records 2, 3"),
        ("3", "nushi", "lookup_ambiguous", "setai_no=0020",
         "2 records with the same setai_no have zokugara=01: records 2, 3"),
        ("4", "shimei,nushi", "gaiji_unmapped", "<F0 45>", None),
        ("5", "nushi", "lookup_missing", "setai_no=0030",
         "record 4 holds the value, but its shimei could not be read")]
    assert result.ledger.rejected == 5


def test_a_lookup_with_a_default_uses_it_when_no_record_holds_the_value(
        inline_mapping, tmp_path: Path, convert) -> None:
    mapping = inline_mapping(SCHEMA, MAPPING.replace('take: shimei}}', 'take: shimei}, '
                                                     'default: "不明"}'))
    path = write(tmp_path, [("0001", "0010", "02", name("山田花子"))])
    result, rows, rejects = convert(mapping, path, tmp_path / "out")
    assert rows["nushi"].to_list() == ["不明"] and rejects.height == 0


@pytest.mark.parametrize("lookup", [
    "{lookup: {match: setai_no, where: {zokugara: \"01\"}, take: nothing}}",
    "{lookup: {match: setai_no, take: shimei}}",
    "{lookup: {match: setai_no, where: {setai_no: \"1\"}, take: shimei}}",
    "{lookup: {match: setai_no, where: {zokugara: \"01\"}, take: shimei, sort: id}}",
])
def test_mistakes_stop_the_loading(inline_mapping, lookup: str) -> None:
    text = MAPPING.replace('{lookup: {match: setai_no, where: {zokugara: "01"}, take: shimei}}',
                           lookup)
    with pytest.raises(LayoutError) as info:
        inline_mapping(SCHEMA, text)
    assert info.value.line is not None


def test_workers_of_a_pool_read_the_lookup_table(inline_mapping, tmp_path: Path) -> None:
    import polars as pl

    from migrate.run.pipeline import RunOptions, run

    mapping = inline_mapping(SCHEMA, MAPPING)
    path = write(tmp_path, [("0001", "0010", "02", name("山田花子")),
                            ("0002", "0020", "01", name("鈴木一郎")),
                            ("0003", "0010", "01", name("山田太郎")),
                            ("0004", "0020", "02", name("鈴木和子"))])
    result = run(RunOptions(mapping, path, tmp_path / "out", db_url="none", chunk_bytes=42,
                            workers=2))
    assert result.exit_code == 0
    rows = pl.read_csv(tmp_path / "out" / "l.csv", infer_schema=False)
    assert rows["nushi"].to_list() == ["山田太郎", "鈴木一郎", "山田太郎", "鈴木一郎"]
    assert not (tmp_path / "out" / ".work").exists()  # the lookup table is not published
