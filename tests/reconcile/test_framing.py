"""Record roles, order and trailer figures, end to end: framings built in code (a bank
direct-debit file of the 全銀協 口座振替 kind: header 1, data 2, trailer 8, end 9, 120-byte
records), each run through the pipeline and checked in run.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from migrate.errors import InputFormatError

SCHEMA = """layout: furikae/v1
title: {ja: 口座振替結果, en: Direct-debit results}
columns:
  - {name: src_record, ja: レコード番号, en: Record, dtype: int, required: true}
  - {name: bank_code, ja: 引落銀行番号, en: Bank, dtype: digits, length: 4, required: true}
  - {name: account_no, ja: 口座番号, en: Account, dtype: digits, length: 7, required: true}
  - {name: meigi, ja: 預金者名, en: Holder, dtype: str, max_length: 30, pii: name}
  - {name: amount, ja: 引落金額, en: Amount, dtype: int, required: true}
  - {name: kekka, ja: 振替結果コード, en: Result, dtype: digits, length: 1, required: true}
  - {name: itakusha, ja: 委託者コード, en: Collector, dtype: digits, length: 10}
"""

# 全銀協 口座振替 (request/result) record layout, 120 bytes each.
MAPPING = """mapping: town/furikae
target: schema.yaml
source:
  encoding: cp932
  record_length: 120
  newline: crlf
  record_type: {offset: 0, length: 1, header: "1", data: "2", trailer: "8", end: "9"%(extra)s}
header:
  shubetsu:  {offset: 1,  length: 2,  type: digits, expect: "91"}   # 種別コード 91 = 口座振替
  itakusha:  {offset: 4,  length: 10, type: digits}                 # 委託者コード
fields:
  bank_code:  {offset: 1,  length: 4,  type: digits}     # 引落銀行番号
  yokin:      {offset: 42, length: 1,  type: digits%(yokin)s}     # 預金種目
  account_no: {offset: 43, length: 7,  type: digits}     # 口座番号
  meigi:      {offset: 50, length: 30, type: text}       # 預金者名 (半角カナ)
  amount:     {offset: 80, length: 10, type: zoned}      # 引落金額
  kekka:      {offset: 111, length: 1, type: digits}     # 振替結果コード 0 = 振替済
trailer:
  figures:
    goukei_kensu:   {offset: 1,  length: 6,  type: digits, count: data}
    goukei_kingaku: {offset: 7,  length: 12, type: digits, sum: amount}
    zumi_kensu:     {offset: 19, length: 6,  type: digits, count: data, where: {kekka: "0"}}
    zumi_kingaku:   {offset: 25, length: 12, type: digits, sum: amount, where: {kekka: "0"}}
    funo_kensu:     {offset: 37, length: 6,  type: digits, count: data, where: {kekka: [1, 2, 3, 4, 8, 9]}}
    funo_kingaku:   {offset: 43, length: 12, type: digits, sum: amount, where: {kekka: [1, 2, 3, 4, 8, 9]}}
columns:
  src_record: {source: record_number}
  bank_code:  bank_code
  account_no: account_no
  meigi:      {from: meigi, kana: fullwidth}
  amount:     amount
  kekka:      kekka
  itakusha:   {header: itakusha}
"""


def header(kind: bytes = b"91") -> bytes:
    body = b"1" + kind + b"0" + b"1234567890" + "ｼﾔｸｼﾖ".encode("cp932").ljust(40) + b"0427"
    return body.ljust(120)


def data(bank: str, account: str, amount: int, kekka: int, yokin: str = "1") -> bytes:
    body = (b"2" + bank.encode() + b" " * 15 + b"001" + b" " * 15 + b"    " + yokin.encode()
            + account.encode() + "ﾔﾏﾀﾞ ﾀﾛｳ".encode("cp932").ljust(30) + b"%010d" % amount
            + b"0" + b"0" * 20 + str(kekka).encode())
    return body.ljust(120)


def trailer(rows: list[tuple[int, int]], *, kingaku_off: int = 0) -> bytes:
    """rows: (amount, kekka) of the block's data records."""
    done = [a for a, k in rows if k == 0]
    failed = [a for a, k in rows if k != 0]
    body = (b"8" + b"%06d" % len(rows) + b"%012d" % (sum(a for a, _ in rows) + kingaku_off)
            + b"%06d" % len(done) + b"%012d" % sum(done)
            + b"%06d" % len(failed) + b"%012d" % sum(failed))
    return body.ljust(120)


def end() -> bytes:
    return b"9".ljust(120)


def write(path: Path, records: list[bytes]) -> Path:
    path.write_bytes(b"".join(r + b"\r\n" for r in records))
    return path


GROUP_A = [("0001", "1234567", 5000, 0), ("0001", "2345678", 3000, 1),
           ("0005", "3456789", 12000, 0)]
GROUP_B = [("0009", "4567890", 800, 0), ("0009", "5678901", 1500, 2)]


def rows(group):
    return [data(*g) for g in group]


def amounts(group):
    return [(a, k) for _, _, a, k in group]


@pytest.fixture
def furikae(inline_mapping):
    def make(extra: str = "", yokin: str = ""):
        return inline_mapping(SCHEMA, MAPPING % {"extra": extra, "yokin": yokin})
    return make


def run_json(result) -> dict:
    return json.loads(result.run_json.read_text(encoding="utf-8"))


def test_header_data_trailer_end_reconciles_with_every_figure(tmp_path, furikae, convert):
    path = write(tmp_path / "in.dat", [header(), *rows(GROUP_A), trailer(amounts(GROUP_A)),
                                       end()])
    result, out, rejects = convert(furikae(), path, tmp_path / "out")
    assert result.exit_code == 0, run_json(result)["reconciliation"]["invariants"]
    doc = run_json(result)
    figures = {f["name"]: f for f in doc["trailer_figures"]}
    assert set(figures) == {"goukei_kensu", "goukei_kingaku", "zumi_kensu", "zumi_kingaku",
                            "funo_kensu", "funo_kingaku"}
    assert (figures["zumi_kensu"]["expected"], figures["zumi_kensu"]["actual"]) == (2, 2)
    assert figures["zumi_kingaku"]["actual"] == 17000
    assert figures["funo_kingaku"]["actual"] == 3000
    assert all(f["ok"] and f["trailer_record"] == 5 and f["records"] == "2–4"
               for f in figures.values())
    assert doc["framing"]["records_by_role"] == {"header": 1, "trailer": 1, "end": 1}
    assert doc["reconciliation"]["data_records_read"] == 3
    assert out["meigi"].to_list() == ["ヤマダ タロウ"] * 3
    assert out["itakusha"].unique().to_list() == ["1234567890"]
    assert doc["expected_values"] == [{"record_type": "header", "field": "shubetsu",
                                       "expect": "91", "failed": 0, "ok": True}]


def test_trailer_total_that_disagrees_fails_naming_the_figure(tmp_path, furikae, convert):
    path = write(tmp_path / "in.dat", [header(), *rows(GROUP_A),
                                       trailer(amounts(GROUP_A), kingaku_off=100), end()])
    result, _, _ = convert(furikae(), path, tmp_path / "out")
    assert result.exit_code == 1
    doc = run_json(result)
    failed = [i for i in doc["reconciliation"]["invariants"] if not i["ok"]]
    assert [i["name"] for i in failed] == ["trailer_figure:goukei_kingaku"]
    assert (failed[0]["expected"], failed[0]["actual"]) == (20100, 20000)
    figure = next(f for f in doc["trailer_figures"] if f["name"] == "goukei_kingaku")
    assert figure["difference"] == -100 and figure["records"] == "2–4" and not figure["ok"]
    assert doc["status"] == "failed"


def test_one_trailer_per_group_each_checked_against_its_own_records(tmp_path, furikae,
                                                                    convert):
    records = [header(), *rows(GROUP_A), trailer(amounts(GROUP_A)),
               *rows(GROUP_B), trailer(amounts(GROUP_B)), end()]
    result, out, _ = convert(furikae(), write(tmp_path / "in.dat", records), tmp_path / "o")
    assert result.exit_code == 0
    doc = run_json(result)
    assert doc["framing"]["blocks"] == 2
    by_block = {(f["name"], f["block"]): f for f in doc["trailer_figures"]}
    assert by_block[("goukei_kensu", 1)]["actual"] == 3
    assert by_block[("goukei_kensu", 2)]["actual"] == 2
    assert by_block[("funo_kingaku", 2)]["actual"] == 1500
    assert by_block[("goukei_kensu", 2)]["records"] == "6–7"
    assert out.height == 5
    # a second group whose trailer counts the first group's records too is named by block
    records[-2] = trailer(amounts(GROUP_A) + amounts(GROUP_B))
    result, _, _ = convert(furikae(), write(tmp_path / "in.dat", records), tmp_path / "o2")
    assert result.exit_code == 1
    failed = {i["name"] for i in run_json(result)["reconciliation"]["invariants"]
              if not i["ok"]}
    assert "trailer_figure:goukei_kensu@2" in failed
    assert not any(name.endswith("@1") for name in failed)


def test_ignore_records_are_counted_listed_and_never_mapped(tmp_path, furikae, convert):
    note = b"5" + "コメント".encode("cp932")
    records = [header(), data(*GROUP_A[0]), note.ljust(120), *rows(GROUP_A[1:]),
               note.ljust(120), trailer(amounts(GROUP_A)), end()]
    result, out, rejects = convert(furikae(extra=', ignore: ["5"]'),
                                   write(tmp_path / "in.dat", records), tmp_path / "out")
    assert result.exit_code == 0
    doc = run_json(result)
    assert doc["framing"]["ignored"] == {"count": 2, "by_code": {"5": 2}, "records": [3, 6]}
    assert doc["reconciliation"]["data_records_read"] == 3
    assert out.height == 3 and rejects.height == 0


def test_several_codes_per_role_and_multi_byte_codes(tmp_path, inline_mapping, convert):
    """Two-byte codes (データ区分 and the next byte), two of them for data records."""
    text = MAPPING.replace('record_type: {offset: 0, length: 1, header: "1", data: "2", '
                           'trailer: "8", end: "9"%(extra)s}',
                           'record_type: {offset: 0, length: 2, header: "19", '
                           'data: ["20", "29"], trailer: "80", end: "9 "}')
    mapping = inline_mapping(SCHEMA, text % {"yokin": ""})
    group = [*GROUP_A, ("9001", "7777777", 100, 0)]
    records = [header(), *rows(group), trailer(amounts(group)), end()]
    result, out, _ = convert(mapping, write(tmp_path / "in.dat", records), tmp_path / "out")
    assert result.exit_code == 0
    assert out["bank_code"].to_list() == ["0001", "0001", "0005", "9001"]


def test_header_that_differs_from_expect_stops_the_run(tmp_path, furikae, convert):
    path = write(tmp_path / "in.dat", [header(b"92"), *rows(GROUP_A),
                                       trailer(amounts(GROUP_A)), end()])
    with pytest.raises(InputFormatError) as info:
        convert(furikae(), path, tmp_path / "out")
    assert info.value.record == 1 and info.value.field_name == "shubetsu"
    assert info.value.params["expect"] == "91" and info.value.params["found"] == "92"
    assert not (tmp_path / "out").exists()


def test_data_record_that_differs_from_expect_is_rejected(tmp_path, furikae, convert):
    group = GROUP_A
    records = [header(), data(*group[0]), data(*group[1], yokin="2"), data(*group[2]),
               trailer(amounts(group)), end()]
    result, out, rejects = convert(furikae(yokin=', expect: "1"'),
                                   write(tmp_path / "in.dat", records), tmp_path / "out")
    assert result.exit_code == 0  # the figures count every record read, rejected or not
    assert rejects.select("record", "field", "reason", "value").rows() == [
        ("3", "yokin", "unexpected_value", "2")]
    expected = run_json(result)["expected_values"]
    assert {"record_type": "data", "field": "yokin", "expect": "1", "failed": 1,
            "ok": False} in expected


@pytest.mark.parametrize(("records", "record", "role"), [
    ([header(), *rows(GROUP_A), trailer(amounts(GROUP_A)), end(), data(*GROUP_B[0])],
     7, "data"),
    ([header(), data(*GROUP_A[0]), header(), trailer(amounts(GROUP_A[:1])), end()],
     3, "header"),
    ([header(), *rows(GROUP_A), end(), trailer(amounts(GROUP_A))], 6, "trailer"),
])
def test_record_out_of_place_is_named_by_its_number(tmp_path, furikae, convert, records,
                                                    record, role):
    with pytest.raises(InputFormatError) as info:
        convert(furikae(), write(tmp_path / "in.dat", records), tmp_path / "out",
                chunk_bytes=122 * 2)
    assert info.value.record == record and info.value.params["role"] == role


def test_missing_end_record_or_trailer_fails(tmp_path, furikae, convert):
    path = write(tmp_path / "in.dat", [header(), *rows(GROUP_A), trailer(amounts(GROUP_A))])
    result, _, _ = convert(furikae(), path, tmp_path / "out")
    assert result.exit_code == 1
    failed = [i["name"] for i in run_json(result)["reconciliation"]["invariants"]
              if not i["ok"]]
    assert failed == ["end_present"]
    path = write(tmp_path / "in.dat", [header(), *rows(GROUP_A), end()])
    result, _, _ = convert(furikae(), path, tmp_path / "out2")
    failed = [i["name"] for i in run_json(result)["reconciliation"]["invariants"]
              if not i["ok"]]
    assert failed == ["trailer_present"]


def readme_mapping() -> str:
    """The 口座振替 mapping of the README's mapping reference, as printed there."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Record roles, trailer figures and expected values", 1)[1]
    return section.split("```yaml\n", 1)[1].split("```", 1)[0]


def test_the_readme_example_runs_as_printed(tmp_path, inline_mapping, convert):
    text = readme_mapping().replace("target: schemas/furikae/v1.yaml", "target: schema.yaml")
    mapping = inline_mapping(SCHEMA, text)
    note = b"5".ljust(120)
    records = [header(), *rows(GROUP_A), note, trailer(amounts(GROUP_A)),
               *rows(GROUP_B), trailer(amounts(GROUP_B)), end()]
    result, out, _ = convert(mapping, write(tmp_path / "in.dat", records), tmp_path / "out")
    assert result.exit_code == 0
    doc = run_json(result)
    assert len(doc["trailer_figures"]) == 12 and all(f["ok"] for f in doc["trailer_figures"])
    assert doc["framing"]["ignored"]["records"] == [5]
    assert out.height == 5


def test_report_and_screen_show_every_figure_with_pass_or_fail(tmp_path, furikae, convert):
    from rich.console import Console

    from migrate.report.summary import print_summary

    path = write(tmp_path / "in.dat", [header(), *rows(GROUP_A),
                                       trailer(amounts(GROUP_A), kingaku_off=100), end()])
    result, _, _ = convert(furikae(), path, tmp_path / "out")
    html = (result.run_json.parent / "report.html").read_text(encoding="utf-8")
    assert 'id="trailer-figures"' in html and 'id="expected-values"' in html
    assert 'data-name="goukei_kingaku" data-ok="false"' in html
    assert 'data-name="zumi_kensu" data-ok="true"' in html
    console = Console(record=True, width=200)
    print_summary(result, console)
    text = console.export_text()
    assert "Trailer figures: 5 of 6 agree" in text
    assert "goukei_kingaku (trailer record 5, records 2–4): expected 20,100, found 20,000" in text
