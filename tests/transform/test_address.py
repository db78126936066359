"""Splitting a one-piece address against the bundled list of local governments, and the
rejects of `split:` columns."""

from __future__ import annotations

from pathlib import Path

import pytest

from migrate.transform.address import split_address


@pytest.mark.parametrize(("address", "pref", "city", "town", "code"), [
    ("北海道札幌市中央区北一条西２丁目", "北海道", "札幌市中央区", "北一条西２丁目", "011002"),
    ("静岡県浜松市中央区元城町１０３", "静岡県", "浜松市中央区", "元城町１０３", "221309"),
    ("京都府京都市上京区", "京都府", "京都市上京区", None, "261009"),
    ("山形県西置賜郡白鷹町大字荒砥甲８３３", "山形県", "西置賜郡白鷹町", "大字荒砥甲８３３", "064025"),
    ("広島県安芸郡府中町大通３丁目", "広島県", "安芸郡府中町", "大通３丁目", "343021"),
    ("広島県府中市府川町３１５", "広島県", "府中市", "府川町３１５", "342084"),
    ("東京都府中市宮西町２－２４", "東京都", "府中市", "宮西町２－２４", "132063"),
    ("東京都千代田区丸の内１丁目", "東京都", "千代田区", "丸の内１丁目", "131016"),
    ("福島県郡山市朝日１丁目", "福島県", "郡山市", "朝日１丁目", "072036"),         # 郡 in a city
    ("奈良県大和郡山市北郡山町", "奈良県", "大和郡山市", "北郡山町", "292036"),
    ("千葉県市川市八幡１丁目", "千葉県", "市川市", "八幡１丁目", "122033"),
    ("山梨県西八代郡市川三郷町市川大門", "山梨県", "西八代郡市川三郷町", "市川大門", "193461"),
    ("白鷹町大字荒砥甲８３３", "山形県", "白鷹町", "大字荒砥甲８３３", "064025"),  # one 白鷹町 in Japan
    ("北海道　余市郡余市町黒川町", "北海道", "余市郡余市町", "黒川町", "014087"),
])
def test_addresses_split(address: str, pref: str, city: str, town: str | None,
                         code: str) -> None:
    found = split_address(address)
    assert found is not None
    assert (found.pref, found.city, found.town or None, found.lg_code) == (pref, city, town, code)


@pytest.mark.parametrize("address", [
    "府中市宮西町２－２４",          # two 府中市: which prefecture is not written
    "東京都どこか市１丁目",          # not a municipality of the prefecture
    "山形県西置賜郡どこか町",
    "1-2-3 Marunouchi",
])
def test_addresses_that_do_not_split(address: str) -> None:
    assert split_address(address) is None


SCHEMA = """
layout: a/v1
title: {ja: テスト, en: Test}
primary_key: [id]
columns:
  - {name: id, ja: 番号, en: Id, dtype: digits, length: 4, required: true}
  - {name: lg_code, ja: 団体コード, en: LG code, dtype: digits, length: 6, required: true}
  - {name: addr_pref, ja: 都道府県, en: Prefecture, dtype: str, required: true, pii: address}
  - {name: addr_city, ja: 市区町村, en: City, dtype: str, required: true, pii: address}
  - {name: addr_town, ja: 町字以下, en: Town, dtype: str, required: true, pii: address}
"""

MAPPING = """
mapping: test/address
target: schema.yaml
source:
  format: fixed
  record_length: 40
  newline: lf
  record_type: {offset: 0, length: 1, header: "H", data: "D"}
header:
  lg_code: {offset: 1, length: 6, type: digits}
fields:
  id:      {offset: 1, length: 4, type: digits}
  address: {offset: 5, length: 35, type: text}
columns:
  id: id
  lg_code: {header: lg_code}
  addr_pref: {from: address, split: pref}
  addr_city: {from: address, split: city, check_lg_code: lg_code}
  addr_town: {from: address, split: town}
"""


def test_split_columns_in_a_run(inline_mapping, tmp_path: Path, convert) -> None:
    mapping = inline_mapping(SCHEMA, MAPPING)
    lines = [b"H064025", b"D0001" + "山形県西置賜郡白鷹町荒砥甲８３３".encode("cp932"),
             b"D0002" + "白鷹町十王１２３".encode("cp932"),
             b"D0003" + "山形県白たか町荒砥".encode("cp932"),         # a typo: not split
             b"D0004" + "山形県長井市ままの上".encode("cp932")]       # another municipality
    path = tmp_path / "in.dat"
    path.write_bytes(b"".join(line.ljust(40) + b"\n" for line in lines))
    result, _, rejects = convert(mapping, path, tmp_path / "out")
    assert rejects.select("record", "column", "reason", "value", "detail").rows() == [
        ("4", "addr_pref,addr_city,addr_town", "address_unsplit", "*********", None),
        ("5", "addr_city", "address_other_lg_code", "062090",
         "the header's 団体コード is 064025")]
    rows = __import__("polars").read_csv(result.run_json.parent / "a.csv", infer_schema=False)
    assert rows.select("addr_pref", "addr_city", "addr_town", "lg_code").rows() == [
        ("山形県", "西置賜郡白鷹町", "荒砥甲８３３", "064025"),
        ("山形県", "白鷹町", "十王１２３", "064025")]


@pytest.mark.parametrize(("edit", "mistake"), [
    ("addr_pref: {from: address, split: pref}", "addr_pref: {from: address, split: street}"),
    ("addr_pref: {from: address, split: pref}", "addr_pref: {from: id, split: pref}"),
    ("check_lg_code: lg_code}", "check_lg_code: nothing}"),
    ("addr_town: {from: address, split: town}", "addr_town: {from: address, check_lg_code: lg_code}"),
])
def test_split_mistakes_stop_the_loading(inline_mapping, edit: str, mistake: str) -> None:
    from migrate.errors import LayoutError

    text = MAPPING.replace(edit, mistake)
    with pytest.raises(LayoutError) as info:
        inline_mapping(SCHEMA, text)
    assert info.value.line == next(i for i, row in enumerate(text.splitlines(), start=1)
                                   if mistake.split(":")[0] in row and "{" in row)
