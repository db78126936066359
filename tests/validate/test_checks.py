"""The katakana check's character sets (`{check: katakana, set: …}`)."""

from __future__ import annotations

import polars as pl
import pytest

from migrate.layouts import CheckSpec
from migrate.layouts.schema import KANA_SETS as SET_NAMES
from migrate.validate.checks import KANA_SETS, check_expression


def passes(value: str, kana_set: str) -> bool:
    check = check_expression(CheckSpec("katakana", params={"set": kana_set}))
    return pl.DataFrame({"v": [value]}).select(check(pl.col("v"))).item()


def test_every_set_the_loader_accepts_is_defined() -> None:
    assert set(SET_NAMES) == set(KANA_SETS)


@pytest.mark.parametrize(("value", "strict", "zengin", "jis"), [
    ("ヤマダ　タロウ", True, False, True),
    ("ヴァイオリン", True, False, True),
    ("ヷ", True, False, False),              # JIS X 0213 only
    ("ﾔﾏﾀﾞ ﾀﾛｳ", False, True, False),
    ("ｶ)ﾔﾏﾀﾞｼﾖｳｼﾞ", False, True, False),    # 株式会社, small kana written large
    ("ABC-1/2.3,(4)\\¥", False, True, False),
    ("ｷｬﾛﾙ", False, False, False),           # small kana are not in the Zengin set
    ("abc", False, False, False),
    ("山田", False, False, False),
])
def test_sets(value: str, strict: bool, zengin: bool, jis: bool) -> None:
    assert (passes(value, "strict"), passes(value, "zengin"),
            passes(value, "jis_x0208_kana")) == (strict, zengin, jis)


def test_an_unknown_set_stops_the_loading(inline_mapping, tmp_path) -> None:
    from migrate.errors import LayoutError

    schema = """
layout: k/v1
columns:
  - {name: id, dtype: digits, required: true}
  - {name: kana, dtype: str, checks: [{check: katakana, set: hiragana}]}
"""
    mapping = """
mapping: test/k
target: schema.yaml
source: {record_length: 4, newline: lf}
fields: {id: {offset: 0, length: 4, type: digits}}
columns: {id: id}
"""
    with pytest.raises(LayoutError) as info:
        inline_mapping(schema, mapping)
    assert info.value.line == 5
