"""Named checks a schema column can declare, as polars expressions (True = passes).

Each returns a boolean expression over a Utf8 column; nulls pass (requiredness is separate).
The names are the reason codes that appear in rejects.csv.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import polars as pl

from migrate.validate.checkdigits import (
    is_valid_houjin_no,
    is_valid_jumin_code,
    is_valid_lg_code,
    is_valid_my_number,
)

if TYPE_CHECKING:
    from migrate.layouts import CheckSpec


def _series_check(validate: Callable[[pl.Series], pl.Series]) -> Callable[[pl.Expr], pl.Expr]:
    """Run one of checkdigits' vectorized validators over a column (one definition per rule)."""
    return lambda expr: expr.map_batches(validate, return_dtype=pl.Boolean)


my_number_ok = _series_check(is_valid_my_number)
lg_code_ok = _series_check(is_valid_lg_code)
jumin_code_ok = _series_check(is_valid_jumin_code)
houjin_no_ok = _series_check(is_valid_houjin_no)

KATAKANA = r"^[\u30A0-\u30FF\u3000 ゛゜]+$"
#: The `katakana` check's character sets (`{check: katakana, set: …}`), as regular expressions.
KANA_SETS: dict[str, str] = {
    # strict (default): every character of the Unicode Katakana block (U+30A0–U+30FF: ァ…ヺ,
    # ・, ー, ヽヾ, ヿ), the full-width and half-width space, ゛ and ゜.
    "strict": KATAKANA,
    # zengin: the characters 全国銀行協会 (Zengin) transfer data (全銀協フォーマット, 総合振込
    # 受取人名) may hold: half-width katakana ｦ and ｱ–ﾝ with ﾞ ﾟ (not the small kana ｧ–ｯ nor
    # ｰ, which the format does not use), digits, capital letters A–Z, the space and
    # ( ) . - / ¥ , — the yen sign as U+00A5 or as the JIS X 0201 byte 0x5C, which cp932
    # decodes to a backslash.
    "zengin": r"^[\uFF66\uFF71-\uFF9F0-9A-Z ().\-/\u00A5\\,]+$",
    # jis_x0208_kana: the katakana of JIS X 0208 row 5 (ァ U+30A1 … ヶ U+30F6, 86
    # characters) and the row-1 marks used with them: ー ヽ ヾ ゛ ゜ ・ and the full-width
    # space. ヷヸヹヺ and ㇰ… (JIS X 0213 only) and half-width kana are outside it.
    "jis_x0208_kana": r"^[\u30A1-\u30F6\u30FC\u30FD\u30FE\u309B\u309C\u30FB\u3000]+$",
}
_BASE = r"(?:夫(?:\(未届\))?|妻(?:\(未届\))?|子(?:\(子の[夫妻]\))?|父|母|兄|姉|弟|妹)"
ZOKUGARA = rf"^(?:世帯主|縁故者|同居人|{_BASE}(?:の{_BASE}){{0,3}})$"


def _pattern(spec: CheckSpec) -> Callable[[pl.Expr], pl.Expr]:
    return lambda expr: expr.str.contains(str(spec.params["pattern"]))


CHECK_EXPRESSIONS: dict[str, Callable[[CheckSpec], Callable[[pl.Expr], pl.Expr]]] = {
    "my_number_check_digit": lambda spec: my_number_ok,
    "lg_code_check_digit": lambda spec: lg_code_ok,
    "jumin_code_check_digit": lambda spec: jumin_code_ok,
    "houjin_no_check_digit": lambda spec: houjin_no_ok,
    "katakana": lambda spec: lambda expr: expr.str.contains(
        KANA_SETS[str(spec.params.get("set", "strict"))]),
    "zokugara_chain": lambda spec: lambda expr: expr.str.contains(ZOKUGARA),
    "pattern": _pattern,
}


def check_expression(spec: CheckSpec) -> Callable[[pl.Expr], pl.Expr]:
    """The expression builder for a declared check (null values pass)."""
    build = CHECK_EXPRESSIONS[spec.name](spec)
    return lambda expr: expr.is_null() | build(expr).fill_null(False)
