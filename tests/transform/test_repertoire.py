"""source.strict_chars: decoded text keeps to jis_x0208, jis_x0213 or mj."""

from __future__ import annotations

from pathlib import Path

import pytest

from migrate.transform.repertoire import first_outside

IVS = "葛\U000e0100"


@pytest.mark.parametrize(("text", "x0208", "x0213", "mj"), [
    ("山田　太郎", None, None, None),
    ("ﾔﾏﾀﾞ", "ﾔ", None, None),            # half-width kana: JIS X 0201, not 0208
    ("﨑山", "﨑", None, None),             # 﨑: JIS X 0213 plane 1
    ("𠮷田", "𠮷", "𠮷", None),            # outside JIS X 0213; MJ through the 外字 table
    (IVS, IVS, IVS, None),                 # an IVS sequence: MJ through the 外字 table
    ("鷗外", "鷗", None, None),
])
def test_repertoires(text: str, x0208: str | None, x0213: str | None, mj: str | None) -> None:
    table = frozenset({"𠮷", IVS})
    assert (first_outside(text, "jis_x0208", table), first_outside(text, "jis_x0213", table),
            first_outside(text, "mj", table)) == (x0208, x0213, mj)


def test_strict_chars_rejects_naming_the_character(inline_mapping, tmp_path: Path,
                                                   convert) -> None:
    schema = """
layout: r/v1
primary_key: [id]
columns:
  - {name: id, dtype: digits, required: true}
  - {name: shimei, dtype: str, pii: name}
  - {name: kana, dtype: str}
"""
    mapping = """
mapping: test/repertoire
target: schema.yaml
source: {record_length: 24, newline: lf, strict_chars: jis_x0208}
fields:
  id:     {offset: 0, length: 4, type: digits}
  shimei: {offset: 4, length: 10, type: text}
  kana:   {offset: 14, length: 10, type: text}
columns:
  id: id
  shimei: shimei
  kana: {from: kana, kana: fullwidth}
"""
    path = tmp_path / "in.dat"
    path.write_bytes(b"".join(r.ljust(24) + b"\n" for r in [
        "0001山田".encode("cp932").ljust(14) + "ﾔﾏﾀﾞ".encode("cp932"),   # kana made full-width
        "0002﨑山".encode("cp932")]))
    _, rows, rejects = convert(inline_mapping(schema, mapping), path, tmp_path / "out")
    assert rows.select("id", "kana").rows() == [("0001", "ヤマダ")]
    assert rejects.select("record", "column", "reason", "value", "detail").rows() == [
        ("2", "shimei", "outside_repertoire", "**", "jis_x0208: U+FA11")]
