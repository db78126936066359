"""Named checks a schema column can declare, as polars expressions (True = passes).

Each returns a boolean expression over a Utf8 column; nulls pass (requiredness is separate).
The names are the reason codes that appear in rejects.csv.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:
    from migrate.layouts import CheckSpec


def _digit(expr: pl.Expr, i: int) -> pl.Expr:
    return expr.str.slice(i, 1).cast(pl.Int64, strict=False)


def _weighted(expr: pl.Expr, weights: tuple[int, ...]) -> pl.Expr:
    return pl.sum_horizontal([_digit(expr, i) * w for i, w in enumerate(weights)])


def my_number_ok(expr: pl.Expr) -> pl.Expr:
    """個人番号: 11-digit body, weights 6 5 4 3 2 7 6 5 4 3 2, mod 11 (check_digits.md §1)."""
    r = _weighted(expr, (6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2)) % 11
    cd = pl.when(r <= 1).then(0).otherwise(11 - r)
    return expr.str.contains(r"^\d{12}$") & (cd == _digit(expr, 11))


def lg_code_ok(expr: pl.Expr) -> pl.Expr:
    """団体コード: 5 digits + check digit, weights 6 5 4 3 2, (11 - r) mod 10 (§2)."""
    r = _weighted(expr, (6, 5, 4, 3, 2)) % 11
    return expr.str.contains(r"^\d{6}$") & ((11 - r) % 10 == _digit(expr, 5))


def jumin_code_ok(expr: pl.Expr) -> pl.Expr:
    """住民票コード (hypothesised rule, §3): weights 5 4 3 2 7 6 5 4 3 2, mod 11."""
    r = _weighted(expr, (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)) % 11
    cd = pl.when(r <= 1).then(0).otherwise(11 - r)
    return expr.str.contains(r"^\d{11}$") & (cd == _digit(expr, 10))


def houjin_no_ok(expr: pl.Expr) -> pl.Expr:
    """法人番号: the FIRST digit = 9 - (Σ base digits × 1/2 from the right) mod 9 (§4)."""
    weights = tuple(2 if (12 - i) % 2 == 0 else 1 for i in range(12))
    body = expr.str.slice(1, 12)
    s = _weighted(body, weights)
    return expr.str.contains(r"^\d{13}$") & (9 - s % 9 == _digit(expr, 0))


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
