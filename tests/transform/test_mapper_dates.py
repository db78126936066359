"""The mapper's date fields that need more than their bytes: MMDD takes its year from a header
field or from the run date by a declared rule; YYYYMM; 和暦 with two-digit era codes."""

from __future__ import annotations

from datetime import date

import pytest

from migrate.errors import LayoutError

SCHEMA = """layout: nouki/v1
columns:
  - {name: src_record, dtype: int, required: true}
  - {name: nouki, dtype: date}
  - {name: shori, dtype: date}
  - {name: fuka_ym, dtype: partial_date}
  - {name: birth, dtype: partial_date}
"""

MAPPING = """mapping: town/nouki
target: schema.yaml
source:
  record_length: 24
  newline: lf
  eras: two_digit
  record_type: {offset: 0, length: 1, header: "1", data: "2"}
header:
  nendo:   {offset: 1, length: 4, type: digits}          # 年度 (a year)
fields:
  nouki:   {offset: 1,  length: 4, type: md, year_from: header.nendo}      # 納期限 MMDD
  shori:   {offset: 5,  length: 4, type: md, year_from: run_date, year_rule: previous}
  fuka_ym: {offset: 9,  length: 6, type: ym}             # 賦課年月 YYYYMM
  birth:   {offset: 15, length: 8, type: wareki}         # GGYYMMDD (中間標準レイアウト)
columns:
  src_record: {source: record_number}
  nouki: nouki
  shori: shori
  fuka_ym: fuka_ym
  birth: birth
"""


def test_md_ym_and_two_digit_eras_end_to_end(tmp_path, inline_mapping, convert):
    mapping = inline_mapping(SCHEMA, MAPPING)
    today = date.today()
    mmdd = f"{today.month:02d}{today.day:02d}"
    body = (b"12024".ljust(24) + b"\n"
            + b"2" + b"0229" + mmdd.encode() + b"202406" + b"04010315" + b" \n"
            + b"2" + b"1231" + mmdd.encode() + b"199900" + b"03500000" + b" \n")
    (tmp_path / "in.dat").write_bytes(body)
    result, rows, _ = convert(mapping, tmp_path / "in.dat", tmp_path / "out")
    assert result.exit_code == 0
    assert rows["nouki"].to_list() == ["2024-02-29", "2024-12-31"]
    assert rows["shori"].to_list() == [today.isoformat()] * 2   # the run date itself
    assert rows["fuka_ym"].to_list() == ["2024-06", "1999"]
    assert rows["birth"].to_list() == ["1989-03-15", "1975"]


@pytest.mark.parametrize(("old", "new", "message"), [
    ("type: md, year_from: header.nendo}", "type: md}", "needs year_from"),
    ("year_from: run_date, year_rule: previous", "year_from: run_date", "year_rule"),
    ("year_from: header.nendo", "year_from: header.nendo2", "header does not declare"),
    ("length: 6, type: ym", "length: 8, type: ym", "6 bytes"),
])
def test_md_and_ym_declarations_are_checked(inline_mapping, old, new, message):
    with pytest.raises(LayoutError) as info:
        inline_mapping(SCHEMA, MAPPING.replace(old, new))
    assert message in str(info.value)
