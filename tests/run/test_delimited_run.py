"""Delimited sources through the whole pipeline: same types, checks, rejects and reconciliation
as fixed width, with record numbers = line numbers and offsets pointing at the cell."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from migrate.errors import InputFormatError, LayoutError
from migrate.layouts import load_mapping
from migrate.run.pipeline import RunOptions, run

SCHEMA = """
layout: list_test/v1
title: {ja: テスト, en: Test}
primary_key: [atena_no]
columns:
  - {name: src_record, ja: 行, en: Line, dtype: int, required: true}
  - {name: atena_no, ja: 宛名番号, en: Person id, dtype: digits, max_length: 8, required: true}
  - {name: shimei, ja: 氏名, en: Name, dtype: str, max_length: 10, required: true, pii: name}
  - {name: kana, ja: カナ, en: Reading, dtype: str, max_length: 20}
  - {name: birth, ja: 生年月日, en: Birth, dtype: date}
  - {name: amount, ja: 金額, en: Amount, dtype: decimal, precision: 12}
"""

MAPPING = """
mapping: test/list
target: schema.yaml
source:
  format: delimited
  encoding: cp932
  delimiter: ","
  newline: crlf
  header_line: true
  record_type: {column: 0, data: "D", trailer: "T"}
fields:
  atena_no: {column: 1, length: 8, type: digits}
  shimei: {name: "氏名", length: 20, type: text}
  kana: {name: "カナ", length: 20, type: text}
  birth: {name: "生年月日", length: 7, type: wareki}
  amount: {name: "金額", length: 12, type: decimal}
columns:
  src_record: {source: record_number}
  atena_no: atena_no
  shimei: shimei
  kana: {from: kana, kana: fullwidth}
  birth: birth
  amount: amount
trailer:
  count: {column: 1, length: 9, type: digits}
"""

HEADER = "区分,宛名番号,氏名,カナ,生年月日,金額"


def write(tmp_path: Path, lines: list[str], trailer: int | None = None) -> Path:
    data = [HEADER, *lines, f"T,{trailer if trailer is not None else len(lines)}"]
    path = tmp_path / "list.csv"
    path.write_bytes(("\r\n".join(data) + "\r\n").encode("cp932"))
    return path


@pytest.fixture
def mapping(inline_mapping):
    return inline_mapping(SCHEMA, MAPPING)


def test_cells_decode_like_fixed_width_fields(mapping, tmp_path: Path,
        convert) -> None:
    path = write(tmp_path, ['D,00000123,"髙橋　一郎",ﾀｶﾊｼ ｲﾁﾛｳ,3630415,-1200',
                            'D,00000124,"表, ソ",,5010501,3'])
    result, rows, rejects = convert(mapping, path, tmp_path / "out")
    assert result.exit_code == 0 and rejects.height == 0
    assert rows.rows() == [("2", "00000123", "髙橋　一郎", "タカハシ イチロウ", "1988-04-15",
                            "-1200"),
                           ("3", "00000124", "表, ソ", None, "2019-05-01", "3")]
    assert (result.ledger.data_read, result.ledger.accepted) == (2, 2)
    assert result.ledger.records_by_kind == {"header": 1, "data": 2, "trailer": 1}


def test_problems_name_the_line_and_the_cell(mapping, tmp_path: Path,
        convert) -> None:
    lines = ["D,00000001,山田,ﾔﾏﾀﾞ,3630415,10",
             "D,00000002,山田,ﾔﾏﾀﾞ,3631315,10",            # 13th month
             "D,00000003,山田山田山田山田山田山田,,,",      # 24 bytes > 20
             "D,00000004,山田",                              # too few columns
             "D,00000005,山田,,,12.5",                       # decimals where none are allowed
             "D,00000001,別人,,,1"]                          # the key again
    path = write(tmp_path, lines)
    data = path.read_bytes()
    result, rows, rejects = convert(mapping, path, tmp_path / "out")
    assert rows["atena_no"].to_list() == ["00000001"]
    reasons = {int(r): reason for r, reason in rejects.select("record", "reason").iter_rows()
               if reason != "required_missing"}
    assert reasons == {3: "invalid_date", 4: "field_too_long", 5: "missing_columns",
                       6: "invalid_decimal", 7: "duplicate_key"}
    bad_date = rejects.filter(pl.col("record") == "3")
    offset = int(bad_date["offset"][0])
    assert data[offset:offset + 7] == b"3631315"  # the cell itself, not the line
    too_long = rejects.filter(pl.col("reason") == "field_too_long")
    assert data[int(too_long["offset"][0]):].startswith("山田山田".encode("cp932"))
    assert result.ledger.ok and result.exit_code == 0


def test_chunks_of_lines_give_the_same_output(mapping, tmp_path: Path,
        convert) -> None:
    lines = [f'D,{i:08d},"名前{i}",ｶﾅ,3630415,{i}' for i in range(1, 400)]
    path = write(tmp_path, lines)
    _, small, _ = convert(mapping, path, tmp_path / "small", chunk_bytes=512)
    _, whole, _ = convert(mapping, path, tmp_path / "whole")
    assert small.equals(whole) and whole.height == 399


def test_trailer_count_is_reconciled(mapping, tmp_path: Path,
        convert) -> None:
    path = write(tmp_path, ["D,00000001,山田,,,1"], trailer=2)
    result, _, _ = convert(mapping, path, tmp_path / "out")
    assert [i.name for i in result.ledger.invariants if not i.ok] == ["trailer_count"]


def test_a_header_name_the_file_lacks_is_an_input_error(mapping, tmp_path: Path,
        convert) -> None:
    path = tmp_path / "list.csv"
    path.write_bytes("区分,宛名番号,名前\r\nD,1,x\r\n".encode("cp932"))
    with pytest.raises(InputFormatError) as error:
        run(RunOptions(mapping, path, tmp_path / "out", db_url="none"))
    assert "氏名" in str(error.value)


def test_mapping_errors_are_caught_at_load(tmp_path: Path) -> None:
    (tmp_path / "schema.yaml").write_text(SCHEMA, encoding="utf-8")
    for bad, line in ((MAPPING.replace("delimiter: \",\"", "delimiter: \"|\""), 7),
                      (MAPPING.replace("{column: 1, length: 8, type: digits}",
                                       "{column: 1, name: x, length: 8, type: digits}"), 12),
                      (MAPPING.replace("type: decimal}", "type: packed}"), 16)):
        (tmp_path / "mapping.yaml").write_text(bad, encoding="utf-8")
        with pytest.raises(LayoutError) as error:
            load_mapping(tmp_path / "mapping.yaml")
        assert error.value.line == line, str(error.value)


def test_validation_problems_point_at_the_cell(mapping, tmp_path: Path, convert) -> None:
    path = write(tmp_path, ["D,00000001,ABCDEFGHIJK,,,1"])  # 11 characters: the layout allows 10
    data = path.read_bytes()
    result, rows, rejects = convert(mapping, path, tmp_path / "out")
    assert result.exit_code == 1 and rows is None  # nothing accepted is never a success
    (reason, offset), = rejects.select("reason", "offset").rows()
    assert reason == "too_long" and data[int(offset):].startswith(b"ABCDEFGHIJK,")


def test_header_names_are_read_like_the_cells_even_after_a_utf8_bom(
        inline_mapping, tmp_path: Path, convert) -> None:
    mapping = inline_mapping(SCHEMA, MAPPING.replace("encoding: cp932", "encoding: utf-8"))
    path = tmp_path / "list.csv"
    lines = ['区分,宛名番号,"氏名",カナ,生年月日,金額', 'D,00000001,山田,,,1', "T,1"]
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode("utf-8") + b"\r\n")
    result, rows, rejects = convert(mapping, path, tmp_path / "out")
    assert result.exit_code == 0 and rejects.height == 0
    assert rows.select("atena_no", "shimei").rows() == [("00000001", "山田")]


WIDE_SCHEMA = """
layout: wide_test/v1
title: {ja: テスト, en: Test}
primary_key: [atena_no]
columns:
  - {name: atena_no, ja: 宛名番号, en: Person id, dtype: digits, max_length: 8, required: true}
  - {name: amount, ja: 金額, en: Amount, dtype: int, required: true}
"""

WIDE_MAPPING = """
mapping: test/wide
target: schema.yaml
source:
  format: delimited
  encoding: cp932
  delimiter: ","
  newline: crlf
  record_type: {column: 0, data: "D", trailer: "T"}
fields:
  atena_no: {column: 1, length: 8, type: digits}
  amount: {column: 2, length: 18, type: digits}
columns:
  atena_no: atena_no
  amount: amount
trailer:
  count: {column: 1, length: 9, type: digits}
  control_totals:
    amount: {column: 2, length: 18, type: digits}
"""


def test_control_totals_past_int64_are_summed_exactly(inline_mapping, tmp_path: Path,
        convert) -> None:
    """Eleven 18-digit amounts sum past 2^63: the totals must be exact, not wrapped."""
    mapping = inline_mapping(WIDE_SCHEMA, WIDE_MAPPING)
    amount = 900_000_000_000_000_000
    lines = [f"D,{i:08d},{amount}" for i in range(1, 12)]
    exact = amount * 11  # 9.9×10^18 > 2^63 − 1
    path = tmp_path / "wide.csv"
    path.write_bytes(("\r\n".join([*lines, f"T,11,{exact % 10**18}"]) + "\r\n").encode())
    result, _, _ = convert(mapping, path, tmp_path / "out")
    totals = {i.name: i for i in result.ledger.invariants if "control_total" in i.name}
    source = totals["control_total_source:amount"]
    assert not source.ok  # the trailer's 18 digits cannot hold the total: a real mismatch
    assert exact in (source.expected, source.actual)
    assert totals["control_total_output:amount"].ok
    assert exact in (totals["control_total_output:amount"].expected,
                     totals["control_total_output:amount"].actual)
