"""Multi-record layouts: a data record followed by child records that belong to it."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from migrate.read.fixed import FixedWidthReader

SCHEMA = """
layout: tax_test/v1
title: {ja: テスト, en: Test}
primary_key: [atena_no]
columns:
  - {name: src_record, ja: レコード番号, en: Record, dtype: int, required: true}
  - {name: atena_no, ja: 宛名番号, en: Person id, dtype: digits, max_length: 6, required: true}
  - {name: kyuyo, ja: 給与収入, en: Salary, dtype: decimal, precision: 12}
  - {name: eigyo, ja: 営業所得, en: Business income, dtype: decimal, precision: 12}
  - {name: incomes, ja: 所得件数, en: Income records, dtype: int, required: true}
"""

MAPPING = """
mapping: test/tax
target: schema.yaml
source:
  encoding: cp932
  record_length: 16
  newline: none
  record_type: {offset: 0, length: 1, header: "1", data: "2", trailer: "9"}
fields:
  atena_no: {offset: 1, length: 6, type: digits}
records:
  income:
    code: "3"
    belongs_to: previous
    key: {atena_no: atena_no}
    fields:
      atena_no: {offset: 1, length: 6, type: digits}
      category: {offset: 7, length: 2, type: digits}
      amount: {offset: 9, length: 5, type: packed}
columns:
  src_record: {source: record_number}
  atena_no: atena_no
  kyuyo: {from: income.amount, where: {category: "01"}}
  eigyo: {from: income.amount, where: {category: "03"}, aggregate: sum}
  incomes: {from: income.amount, aggregate: count}
trailer:
  count: {offset: 1, length: 6, type: digits}
  control_totals:
    income.amount: {offset: 7, length: 9, type: zoned}
"""


def packed(value: int, nbytes: int = 5) -> bytes:
    digits = str(abs(value)).rjust(2 * nbytes - 1, "0")
    nibbles = [int(d) for d in digits] + [0xD if value < 0 else 0xC]
    return bytes(nibbles[i] << 4 | nibbles[i + 1] for i in range(0, len(nibbles), 2))


def person(atena: str) -> bytes:
    return b"2" + atena.encode() + b" " * 9


def income(atena: str, category: str, amount: int, raw: bytes | None = None) -> bytes:
    return b"3" + atena.encode() + category.encode() + (raw or packed(amount)) + b"  "


def zoned(value: int, width: int) -> bytes:
    digits = str(abs(value)).rjust(width, "0")
    last = "{ABCDEFGHI"[int(digits[-1])] if value >= 0 else "}JKLMNOPQR"[int(digits[-1])]
    return (digits[:-1] + last).encode()


def write_file(tmp_path: Path, records: list[bytes], total: int | None = None) -> Path:
    data = [r for r in records]
    amounts = total if total is not None else 0
    trailer = b"9" + str(len(data)).rjust(6, "0").encode() + zoned(amounts, 9)
    body = b"1" + b" " * 15 + b"".join(data) + trailer
    path = tmp_path / "tax.dat"
    path.write_bytes(body)
    return path


@pytest.fixture
def mapping(inline_mapping):
    return inline_mapping(SCHEMA, MAPPING)


def test_children_are_aggregated_into_their_parent_row(mapping, tmp_path: Path,
        convert) -> None:
    records = [person("000001"), income("000001", "01", 3_000_000),
               income("000001", "03", -250_000), income("000001", "03", 50_000),
               person("000002"),
               person("000003"), income("000003", "01", 1_200_000)]
    path = write_file(tmp_path, records, total=3_000_000 - 250_000 + 50_000 + 1_200_000)
    result, rows, rejects = convert(mapping, path, tmp_path / "out")
    assert result.exit_code == 0, json.loads(result.run_json.read_text())["reconciliation"]
    assert rows.select("atena_no", "kyuyo", "eigyo", "incomes").rows() == [
        ("000001", "3000000", "-200000", "3"), ("000002", None, None, "0"),
        ("000003", "1200000", None, "1")]
    assert rejects.height == 0
    ledger = result.ledger
    assert ledger.records_by_kind["data"] == 3 and ledger.records_by_kind["income"] == 4
    assert (ledger.data_read, ledger.accepted, ledger.rows) == (7, 7, 3)


def test_a_bad_child_rejects_its_whole_group(mapping, tmp_path: Path,
        convert) -> None:
    records = [person("000001"), income("000001", "01", 100),
               income("000001", "01", 0, raw=b"\x12\x34\x56\x78\x95"),   # bad sign nibble
               person("000002"), income("000002", "01", 5)]
    path = write_file(tmp_path, records, total=105)
    result, rows, rejects = convert(mapping, path, tmp_path / "out")
    assert rows["atena_no"].to_list() == ["000002"]
    by_record = dict(rejects.select("record", "reason").iter_rows())
    assert by_record == {"2": "group_rejected", "3": "group_rejected", "4": "invalid_packed"}
    detail = rejects.filter(pl.col("record") == "2")["detail"][0]
    assert "4" in detail
    ledger = result.ledger
    assert (ledger.data_read, ledger.accepted, ledger.rejected, ledger.rows) == (5, 2, 3, 1)
    assert ledger.ok  # every record accounted for; totals still balance (rejected part counted)


def test_orphans_key_mismatch_and_unmapped_children(mapping, tmp_path: Path,
        convert) -> None:
    records = [income("000009", "01", 1),             # before any parent
               person("000001"), income("000002", "01", 7),   # someone else's record
               person("000003"), income("000003", "99", 8),   # a category nobody maps
               person("000004"), income("000004", "03", 9)]
    path = write_file(tmp_path, records, total=25)
    result, rows, rejects = convert(mapping, path, tmp_path / "out")
    assert rows["atena_no"].to_list() == ["000004"]
    reasons = dict(rejects.select("record", "reason").iter_rows())
    assert reasons == {"2": "orphan_child", "3": "group_rejected",
                       "4": "child_key_mismatch", "5": "group_rejected",
                       "6": "child_not_mapped"}
    assert result.ledger.ok


def test_chunks_never_split_a_group(mapping, tmp_path: Path,
        convert) -> None:
    records = []
    for i in range(1, 60):
        atena = f"{i:06d}"
        records.append(person(atena))
        records += [income(atena, "01", i * 10)] * (i % 4)
    total = sum(i * 10 * (i % 4) for i in range(1, 60))
    path = write_file(tmp_path, records, total=total)
    reader = FixedWidthReader(path, mapping.source, chunk_bytes=16 * 5)
    for first, _ in reader.plan()[1:]:
        assert reader._record(first)[:1] != b"3"
    small, rows_small, _ = convert(mapping, path, tmp_path / "small", chunk_bytes=16 * 5)
    whole, rows_whole, _ = convert(mapping, path, tmp_path / "whole")
    assert rows_small.equals(rows_whole)
    assert small.exit_code == whole.exit_code == 0
    assert rows_whole["kyuyo"].cast(pl.Int64).sum() == total


def test_trailer_total_of_child_amounts_is_reconciled(mapping, tmp_path: Path,
        convert) -> None:
    records = [person("000001"), income("000001", "01", 10)]
    path = write_file(tmp_path, records, total=11)  # the trailer disagrees with the records
    result, _, _ = convert(mapping, path, tmp_path / "out")
    failed = [inv.name for inv in result.ledger.invariants if not inv.ok]
    assert failed == ["control_total_source:income.amount"]


def test_only_rejects_matching_children_at_their_offsets(inline_mapping, tmp_path: Path,
                                                            convert) -> None:
    only = MAPPING.replace('kyuyo: {from: income.amount, where: {category: "01"}}',
                           'kyuyo: {from: income.amount, where: {category: "01"}, '
                           'aggregate: only}')
    mapping = inline_mapping(SCHEMA, only)
    records = [person("000001"), income("000001", "01", 10), income("000001", "01", 20),
               person("000002"), income("000002", "01", 5)]
    path = write_file(tmp_path, records, total=35)
    result, rows, rejects = convert(mapping, path, tmp_path / "out")
    assert rows["atena_no"].to_list() == ["000002"]
    ambiguous = rejects.filter(pl.col("reason") == "child_ambiguous")
    # both matching records are named (neither is the one to keep), each at its own offset
    assert ambiguous["record"].to_list() == ["3", "4"]
    assert [int(o) for o in ambiguous["offset"]] == [2 * 16, 3 * 16]
    assert result.ledger.ok


def test_key_on_a_parent_field_no_column_takes(inline_mapping, tmp_path: Path,
                                               convert) -> None:
    unmapped = MAPPING.replace(
        "  atena_no: {offset: 1, length: 6, type: digits}\nrecords:",
        "  atena_no: {offset: 1, length: 6, type: digits}\n"
        "  person_id: {offset: 1, length: 6, type: digits}   # in no column\nrecords:").replace(
        "key: {atena_no: atena_no}", "key: {atena_no: person_id}")
    assert "person_id" in unmapped and "{atena_no: person_id}" in unmapped
    mapping = inline_mapping(SCHEMA, unmapped)
    records = [person("000001"), income("000002", "01", 7), person("000003"),
               income("000003", "01", 8)]
    path = write_file(tmp_path, records, total=15)
    _, rows, rejects = convert(mapping, path, tmp_path / "out")
    assert rows["atena_no"].to_list() == ["000003"]
    assert dict(rejects.select("record", "reason").iter_rows()) == {
        "2": "group_rejected", "3": "child_key_mismatch"}


def test_a_sum_too_large_for_64_bits_rejects_its_parent(inline_mapping, tmp_path: Path,
                                                        convert) -> None:
    """185 amounts of 17 digits add up to 2**64 + 5: an Int64 sum wraps round to 5, which
    once went through as the salary; now the parent is rejected and says why."""
    wide = MAPPING.replace("record_length: 16", "record_length: 20").replace(
        "amount: {offset: 9, length: 5, type: packed}",
        "amount: {offset: 9, length: 9, type: packed}").replace(
        "  control_totals:\n    income.amount: {offset: 7, length: 9, type: zoned}\n", "")
    mapping = inline_mapping(SCHEMA, wide)
    largest = 10**17 - 1
    amounts = [largest] * 184 + [2**64 + 5 - 184 * largest]
    assert sum(amounts) == 2**64 + 5 and max(amounts) <= largest

    def record(kind: bytes, atena: str, rest: bytes = b"") -> bytes:
        return (kind + atena.encode() + rest).ljust(20, b" ")

    records = [record(b"2", "000001")]
    records += [record(b"3", "000001", b"01" + packed(a, 9)) for a in amounts]
    records += [record(b"2", "000002"), record(b"3", "000002", b"01" + packed(7, 9))]
    trailer = b"9" + str(len(records)).rjust(6, "0").encode()
    path = tmp_path / "tax.dat"
    path.write_bytes(record(b"1", "") + b"".join(records) + trailer.ljust(20, b" "))
    result, rows, rejects = convert(mapping, path, tmp_path / "out")
    assert rows.select("atena_no", "kyuyo").rows() == [("000002", "7")]
    overflow = rejects.filter(pl.col("reason") == "aggregate_overflow")
    assert overflow.select("record", "column").rows() == [("2", "kyuyo")]
    assert rejects.filter(pl.col("reason") == "group_rejected").height == len(amounts)
    assert result.ledger.ok
