"""Values the file does not carry (`value:`, `default:`, `{source: file_name}`) and code tables
keyed by several fields, through the whole pipeline: rows, rejects and run.json's `supplied`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from migrate.errors import LayoutError, format_error

SCHEMA = """
layout: t/v1
title: {ja: テスト, en: Test}
primary_key: [id]
columns:
  - {name: id, ja: 番号, en: Id, dtype: digits, length: 4, required: true}
  - {name: shubetsu, ja: 住民種別, en: Kind, dtype: code, codes: std_shubetsu.csv, required: true}
  - {name: jotai, ja: 住民状態, en: State, dtype: code, codes: std_shubetsu.csv, required: true}
  - {name: zokugara, ja: 続柄, en: Relation, dtype: str, max_length: 10}
  - {name: shimei, ja: 氏名, en: Name, dtype: str, max_length: 10, pii: name}
  - {name: src_file, ja: 入力ファイル, en: Input file, dtype: str}
  - {name: src_record, ja: レコード番号, en: Record, dtype: int}
"""

MAPPING = """
mapping: test/columns
target: schema.yaml
source: {format: fixed, encoding: cp932, record_length: 18, newline: lf}
fields:
  id:    {offset: 0, length: 4, type: digits}
  sex:   {offset: 4, length: 1, type: text}
  zoku:  {offset: 5, length: 2, type: text}
  state: {offset: 7, length: 1, type: text}
  name:  {offset: 8, length: 10, type: text}
columns:
  id: id
  shubetsu: {value: "1"}
  jotai: {from: state, default: "1"}
  zokugara: {codes: {table: zokugara.csv, key: [sex, zoku]}}
  shimei: name
  src_file: {source: file_name}
  src_record: {source: record_number}
"""

ZOKUGARA = "sex,zoku,standard,note\n1,02,夫,男の配偶者\n2,02,妻,女の配偶者\n,01,世帯主,\n1,01,世帯主,\n2,01,世帯主,\n"


@pytest.fixture
def mapping(inline_mapping, tmp_path: Path):
    (tmp_path / "std_shubetsu.csv").write_text("code\n1\n2\n", encoding="utf-8")
    (tmp_path / "zokugara.csv").write_text(ZOKUGARA, encoding="utf-8")
    return inline_mapping(SCHEMA, MAPPING)


def write(tmp_path: Path, records: list[str], name: str = "town.dat") -> Path:
    path = tmp_path / name
    data = b""
    for record in records:
        raw = record.encode("cp932")
        data += raw + b" " * (18 - len(raw)) + b"\n"
    path.write_bytes(data)
    return path


def test_constants_defaults_file_name_and_composite_codes(mapping, tmp_path: Path,
                                                          convert) -> None:
    path = write(tmp_path, ["0001101 山田", "0002202 山田花子", "0003 012山田一", "0004102"])
    result, rows, rejects = convert(mapping, path, tmp_path / "out")
    assert result.exit_code == 0 and rejects.height == 0
    assert rows.select("id", "shubetsu", "jotai", "zokugara", "src_file").rows() == [
        ("0001", "1", "1", "世帯主", "town.dat"),   # state blank: the default
        ("0002", "1", "1", "妻", "town.dat"),
        ("0003", "1", "2", "世帯主", "town.dat"),   # sex blank: the empty cell of the table
        ("0004", "1", "1", "夫", "town.dat")]
    doc = json.loads(result.run_json.read_text(encoding="utf-8"))
    assert doc["supplied"] == [
        {"column": "shubetsu", "ja": "住民種別", "en": "Kind", "how": "value", "value": "1",
         "records": None},
        {"column": "jotai", "ja": "住民状態", "en": "State", "how": "default", "value": "1",
         "records": 3}]
    report = (result.run_json.parent / "report.html").read_text(encoding="utf-8")
    assert "shubetsu" in report and "jotai" in report


def test_an_unknown_combination_names_both_values(mapping, tmp_path: Path, convert) -> None:
    path = write(tmp_path, ["0001101 山田", "0002903 山田"])
    result, rows, rejects = convert(mapping, path, tmp_path / "out")
    bad = rejects.filter(rejects["reason"] == "unknown_code")
    assert bad.select("record", "field", "column", "value", "detail").rows() == [
        ("2", "sex,zoku", "zokugara", "sex=9, zoku=03", "zokugara.csv")]
    assert rejects.height == 1  # no follow-on problem


def test_an_unknown_value_of_a_key_field_is_one_reject(mapping, inline_mapping,
                                                        tmp_path: Path, convert) -> None:
    """The sex field feeds its own column through a one-field table and 続柄 through the
    keyed one: an unknown sex code is one reject, which names both columns it empties (and
    no required_missing follows on 続柄)."""
    (tmp_path / "std_sex.csv").write_text("code\n1\n2\n", encoding="utf-8")
    (tmp_path / "sex.csv").write_text("source,standard\n1,1\n2,2\n", encoding="utf-8")
    schema = SCHEMA.replace(
        "max_length: 10}\n  - {name: shimei",
        "max_length: 10, required: true}\n"
        "  - {name: sex, ja: 性別, en: Sex, dtype: code, codes: std_sex.csv}\n  - {name: shimei")
    text = MAPPING.replace("  shimei: name", "  sex: {from: sex, codes: sex.csv}\n  shimei: name")
    path = write(tmp_path, ["0001101 山田", "0002902 山田", "0003103 山田"])
    result, _, rejects = convert(inline_mapping(schema, text), path, tmp_path / "out")
    assert rejects.select("record", "field", "column", "reason", "value").rows() == [
        ("2", "sex", "sex,zokugara", "unknown_code", "9"),
        # a known sex code in a combination the table lacks is still its own reject
        ("3", "sex,zoku", "zokugara", "unknown_code", "sex=1, zoku=03")]


@pytest.mark.parametrize(("edit", "message"), [
    ('shubetsu: {value: "1"}', 'shubetsu: {value: "3"}'),
    ('jotai: {from: state, default: "1"}', 'jotai: {from: state, default: "x"}'),
    ('shubetsu: {value: "1"}', 'shubetsu: {value: "1", from: sex}'),
    ("key: [sex, zoku]", "key: [sex, nothing]"),
    ("src_file: {source: file_name}", "src_file: {source: file_size}"),
    ("src_record: {source: record_number}", "src_record: {source: file_name}"),
])
def test_mistakes_stop_the_loading_with_the_line(inline_mapping, tmp_path: Path, edit: str,
                                                 message: str) -> None:
    (tmp_path / "std_shubetsu.csv").write_text("code\n1\n2\n", encoding="utf-8")
    (tmp_path / "zokugara.csv").write_text(ZOKUGARA, encoding="utf-8")
    text = MAPPING.replace(edit, message)
    with pytest.raises(LayoutError) as info:
        inline_mapping(SCHEMA, text)
    line = next(i for i, row in enumerate(text.splitlines(), start=1) if message in row)
    assert info.value.line == line, format_error(info.value, "en")


def test_a_combination_listed_twice_stops_the_loading(inline_mapping, tmp_path: Path) -> None:
    (tmp_path / "std_shubetsu.csv").write_text("code\n1\n2\n", encoding="utf-8")
    (tmp_path / "zokugara.csv").write_text(ZOKUGARA + "1,02,子,\n", encoding="utf-8")
    with pytest.raises(LayoutError) as info:
        inline_mapping(SCHEMA, MAPPING)
    assert info.value.line == 7 and "sex=1, zoku=02" in format_error(info.value, "en")


def test_a_constant_counts_an_ivs_as_one_character(inline_mapping, tmp_path: Path) -> None:
    """`value:` is checked against the column's max_length as the layout counts characters:
    葛 + U+E0100 is one."""
    (tmp_path / "std_shubetsu.csv").write_text("code\n1\n2\n", encoding="utf-8")
    (tmp_path / "zokugara.csv").write_text(ZOKUGARA, encoding="utf-8")
    ivs = "葛\U000e0100"
    fits = MAPPING.replace("  shimei: name", f'  shimei: {{value: "{ivs}{"長" * 9}"}}')
    columns = {cm.column: cm for cm in inline_mapping(SCHEMA, fits).columns}
    assert columns["shimei"].value == ivs + "長" * 9
    with pytest.raises(LayoutError):
        inline_mapping(SCHEMA, MAPPING.replace("  shimei: name",
                                               f'  shimei: {{value: "{ivs}{"長" * 10}"}}'))
