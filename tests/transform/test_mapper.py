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
