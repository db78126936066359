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
_BASE = r"(?:夫(?:\(未届\))?|妻(?:\(未届\))?|子(?:\(子の[夫妻]\))?|父|母|兄|姉|弟|妹)"
ZOKUGARA = rf"^(?:世帯主|縁故者|同居人|{_BASE}(?:の{_BASE}){{0,3}})$"


def _pattern(spec: CheckSpec) -> Callable[[pl.Expr], pl.Expr]:
    return lambda expr: expr.str.contains(str(spec.params["pattern"]))


CHECK_EXPRESSIONS: dict[str, Callable[[CheckSpec], Callable[[pl.Expr], pl.Expr]]] = {
    "my_number_check_digit": lambda spec: my_number_ok,
    "lg_code_check_digit": lambda spec: lg_code_ok,
    "jumin_code_check_digit": lambda spec: jumin_code_ok,
    "houjin_no_check_digit": lambda spec: houjin_no_ok,
    "katakana": lambda spec: lambda expr: expr.str.contains(KATAKANA),
    "zokugara_chain": lambda spec: lambda expr: expr.str.contains(ZOKUGARA),
    "pattern": _pattern,
}


def check_expression(spec: CheckSpec) -> Callable[[pl.Expr], pl.Expr]:
    """The expression builder for a declared check (null values pass)."""
    build = CHECK_EXPRESSIONS[spec.name](spec)
    return lambda expr: expr.is_null() | build(expr).fill_null(False)
