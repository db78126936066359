"""Problems the mapper reports: honest masking (only personal columns) and one reject per
problem (no follow-on `required_missing` for a value that already failed)."""

from __future__ import annotations

from pathlib import Path

SCHEMA = """
layout: m/v1
title: {ja: テスト, en: Test}
primary_key: [id]
columns:
  - {name: id, ja: 番号, en: Id, dtype: digits, length: 4, required: true}
  - {name: shimei, ja: 氏名, en: Name, dtype: str, max_length: 10, pii: name, required: true}
  - {name: nushi, ja: 世帯主氏名, en: Head, dtype: str, max_length: 10, pii: name, required: true}
  - {name: birth, ja: 生年月日, en: Birth, dtype: partial_date, pii: date}
  - {name: moved, ja: 異動日, en: Moved, dtype: partial_date}
"""

MAPPING = """
mapping: test/mapper
target: schema.yaml
source:
  format: fixed
  record_length: 28
  newline: lf
  gaiji: gaiji.csv
  eras:
    - {code: "S", name: 昭和, first: 1926-12-25, last: 1989-01-07}
    - {code: "H", name: 平成, first: 1989-01-08, last: 2019-04-30}
fields:
  id:    {offset: 0,  length: 4,  type: digits}
  name:  {offset: 4,  length: 10, type: text}
  birth: {offset: 14, length: 7,  type: wareki}
  moved: {offset: 21, length: 7,  type: wareki}
columns:
  id: id
  shimei: name
  nushi: name
  birth: birth
  moved: moved
"""


def _mapping(inline_mapping, tmp_path: Path):
    (tmp_path / "gaiji.csv").write_text("code,char,note\nF040,𠮷,\n", encoding="utf-8")
    return inline_mapping(SCHEMA, MAPPING)


def _write(tmp_path: Path, records: list[bytes]) -> Path:
    path = tmp_path / "in.dat"
    path.write_bytes(b"".join(r.ljust(28) + b"\n" for r in records))
    return path


def test_an_unknown_era_shows_its_code_and_masks_the_date(inline_mapping, tmp_path: Path,
                                                          convert) -> None:
    mapping = _mapping(inline_mapping, tmp_path)
    path = _write(tmp_path, ["0001山田".encode("cp932").ljust(14) + b"X630415H020101",
                             "0002山田".encode("cp932").ljust(14) + b"S630415X010101"])
    _, _, rejects = convert(mapping, path, tmp_path / "out")
    shown = {(r, c): v for r, c, v in rejects.select("record", "column", "value").iter_rows()}
    assert shown == {("1", "birth"): "X******",       # personal: only the era code shows
                     ("2", "moved"): "X010101"}       # not personal: shown as it is


def test_an_unmapped_gaiji_is_one_reject_not_three(inline_mapping, tmp_path: Path,
                                                   convert) -> None:
    mapping = _mapping(inline_mapping, tmp_path)
    path = _write(tmp_path, [b"0001\xf0\x40\x8eR", b"0002\xf0\x41\x8eR"])
    _, rows, rejects = convert(mapping, path, tmp_path / "out")
    assert rows["shimei"].to_list() == ["𠮷山"]
    assert rejects.select("record", "field", "column", "reason").rows() == [
        ("2", "name", "shimei,nushi", "gaiji_unmapped")]


def test_gaiji_with_an_ivs_and_an_mj_identifier_are_counted_per_code(
        inline_mapping, tmp_path: Path, convert) -> None:
    import json

    (tmp_path / "gaiji.csv").write_text(
        "code,char,mj,note\nF040,𠮷,MJ000001,\nF041,葛\U000e0100,MJ000002,葛 with IVS\n",
        encoding="utf-8")
    mapping = inline_mapping(SCHEMA, MAPPING)
    path = _write(tmp_path, [b"0001\xf0\x40\x8eR", b"0002\xf0\x41\xf0\x41",
                             b"0003\xf0\x40\xf0\x41"])
    result, rows, rejects = convert(mapping, path, tmp_path / "out")
    assert rejects.height == 0
    assert rows["shimei"].to_list() == ["𠮷山", "葛\U000e0100葛\U000e0100", "𠮷葛\U000e0100"]
    doc = json.loads(result.run_json.read_text(encoding="utf-8"))
    assert doc["gaiji_replaced"] == [
        {"code": "F040", "char": "𠮷", "mj": "MJ000001", "count": 2},
        {"code": "F041", "char": "葛\U000e0100", "mj": "MJ000002", "count": 3}]


def test_a_gaiji_replacement_of_two_characters_stops_the_loading(inline_mapping,
                                                                 tmp_path: Path) -> None:
    import pytest

    from migrate.errors import LayoutError

    (tmp_path / "gaiji.csv").write_text("code,char,mj\nF040,吉吉,\n", encoding="utf-8")
    with pytest.raises(LayoutError) as info:
        inline_mapping(SCHEMA, MAPPING)
    assert info.value.line == 2
    (tmp_path / "gaiji.csv").write_text("code,char,mj\nF040,吉,MJ12\n", encoding="utf-8")
    with pytest.raises(LayoutError) as info:
        inline_mapping(SCHEMA, MAPPING)
    assert info.value.line == 2


def test_euc_jp_gaiji_of_the_user_defined_area_rows_f5_to_fe(inline_mapping, tmp_path: Path,
                                                            convert) -> None:
    import json

    (tmp_path / "gaiji.csv").write_text("code,char,mj\nF5A1,𠮷,MJ000001\nFEFE,髙,\n",
                                        encoding="utf-8")
    mapping = inline_mapping(SCHEMA, MAPPING.replace("format: fixed", "format: fixed\n"
                                                     "  encoding: euc_jp"))
    path = _write(tmp_path, [b"0001\xf5\xa1" + "田".encode("euc_jp"),
                             b"0002\xfe\xfe\xf5\xa1",
                             b"0003\xf5\xa2" + "田".encode("euc_jp")])
    result, _, rejects = convert(mapping, path, tmp_path / "out")
    assert rejects.select("record", "reason", "value").rows() == [
        ("3", "gaiji_unmapped", "<F5><A2>*")]
    rows = __import__("polars").read_csv(result.run_json.parent / "m.csv", infer_schema=False)
    assert rows["shimei"].to_list() == ["𠮷田", "髙𠮷"]
    doc = json.loads(result.run_json.read_text(encoding="utf-8"))
    assert [(g["code"], g["count"]) for g in doc["gaiji_replaced"]] == [("F5A1", 2),
                                                                        ("FEFE", 1)]


def test_an_euc_jp_gaiji_code_outside_rows_f5_to_fe_stops_the_loading(inline_mapping,
                                                                      tmp_path: Path) -> None:
    import pytest

    from migrate.errors import LayoutError

    (tmp_path / "gaiji.csv").write_text("code,char\nF040,𠮷\n", encoding="utf-8")
    with pytest.raises(LayoutError) as info:
        inline_mapping(SCHEMA, MAPPING.replace("format: fixed", "format: fixed\n"
                                               "  encoding: euc_jp"))
    assert info.value.line == 2
