"""Check digits of Japanese public identifiers, scalar and vectorized (shared/domain/check_digits.md).

Two layers, so the synthetic-data generator, the reader and the validation stage share one
definition of each rule:

- `*_check_digit(body)` computes the check digit from the body: a digit string gives an `int`;
  a numpy array of digit *values* whose last axis is the body (shape `(..., k)`) gives an array.
  `digit_matrix` turns whole numbers into such arrays.
- `is_valid_*(value)` validates complete numbers: a `str` gives a `bool`; a polars Series of
  strings gives a Boolean Series (null stays null, anything that is not exactly the right number
  of ASCII digits is False); a `(n, width)` uint8 array of raw ASCII field bytes gives a bool array.

No padding is stripped and no full-width digit is converted here: validation normalises first
(strip → digits → length → check digit) and reports those steps itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import overload

import numpy as np
import polars as pl
import pyarrow as pa

MY_NUMBER_WEIGHTS = (6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2)  # left → right over the 11-digit body
JUMIN_CODE_WEIGHTS = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)  # hypothesis: My Number rule on 10 digits
LG_CODE_WEIGHTS = (6, 5, 4, 3, 2)
HOUJIN_NO_WEIGHTS = (2, 1) * 6  # left → right over the 12-digit base: 1 on odd positions from right

_POW10 = 10 ** np.arange(18, dtype=np.int64)

__all__ = [
    "digit_matrix",
    "houjin_no_check_digit",
    "is_valid_houjin_no",
    "is_valid_jumin_code",
    "is_valid_lg_code",
    "is_valid_my_number",
    "jumin_code_check_digit",
    "lg_code_check_digit",
    "lg_code_with_check_digit",
    "mod11_w27_check_digit",
    "my_number_check_digit",
]


# ---------------------------------------------------------------- shared machinery


def digit_matrix(numbers: np.ndarray, width: int) -> np.ndarray:
    """Whole numbers (n,) → their `width` decimal digits, most significant first, shape (n, width).

    Numbers with more than `width` digits keep only the low `width` digits, like a fixed field.
    """
    if not 1 <= width <= 18:
        raise ValueError(f"width must be 1..18, not {width}")
    values = np.asarray(numbers, dtype=np.int64)
    return (values[..., None] // _POW10[width - 1 :: -1]) % 10


def _as_digits(body: str | np.ndarray, length: int, what: str) -> np.ndarray:
    if isinstance(body, str):
        if len(body) != length or not (body.isascii() and body.isdigit()):
            raise ValueError(f"{what} body must be {length} ASCII digits, got {body!r}")
        return np.frombuffer(body.encode("ascii"), dtype=np.uint8).astype(np.int64) - 48
    digits = np.asarray(body)
    if digits.shape[-1:] != (length,):
        raise ValueError(f"{what} body array must end in an axis of {length} digits, "
                         f"got shape {digits.shape}")
    return digits.astype(np.int64, copy=False)


def _weighted_sum(digits: np.ndarray, weights: tuple[int, ...]) -> np.ndarray:
    return digits @ np.asarray(weights, dtype=np.int64)


def _scalar_or_array(result: np.ndarray, body: str | np.ndarray) -> int | np.ndarray:
    return int(result) if isinstance(body, str) else result.astype(np.int8)


# ---------------------------------------------------------------- check digit from the body


@overload
def my_number_check_digit(body: str) -> int: ...
@overload
def my_number_check_digit(body: np.ndarray) -> np.ndarray: ...
def my_number_check_digit(body: str | np.ndarray) -> int | np.ndarray:
    """個人番号: weights 6 5 4 3 2 7 6 5 4 3 2, r = Σ mod 11, 0 if r ≤ 1 else 11 − r."""
    r = _weighted_sum(_as_digits(body, 11, "My Number"), MY_NUMBER_WEIGHTS) % 11
    return _scalar_or_array(np.where(r <= 1, 0, 11 - r), body)


@overload
def jumin_code_check_digit(body: str) -> int: ...
@overload
def jumin_code_check_digit(body: np.ndarray) -> np.ndarray: ...
def jumin_code_check_digit(body: str | np.ndarray) -> int | np.ndarray:
    """住民票コード (unverified hypothesis: the My Number rule on 10 digits; warn, never reject)."""
    r = _weighted_sum(_as_digits(body, 10, "住民票コード"), JUMIN_CODE_WEIGHTS) % 11
    return _scalar_or_array(np.where(r <= 1, 0, 11 - r), body)


@overload
def lg_code_check_digit(body: str) -> int: ...
@overload
def lg_code_check_digit(body: np.ndarray) -> np.ndarray: ...
def lg_code_check_digit(body: str | np.ndarray) -> int | np.ndarray:
    """団体コード: weights 6 5 4 3 2, last digit of 11 − (Σ mod 11) (so 11 → 1, 10 → 0)."""
    r = _weighted_sum(_as_digits(body, 5, "local government code"), LG_CODE_WEIGHTS) % 11
    return _scalar_or_array((11 - r) % 10, body)


@overload
def houjin_no_check_digit(base: str) -> int: ...
@overload
def houjin_no_check_digit(base: np.ndarray) -> np.ndarray: ...
def houjin_no_check_digit(base: str | np.ndarray) -> int | np.ndarray:
    """法人番号: the FIRST digit, 9 − (Σ mod 9) over the 12-digit base (weights 1/2 from right)."""
    s = _weighted_sum(_as_digits(base, 12, "corporate number"), HOUJIN_NO_WEIGHTS)
    return _scalar_or_array(9 - s % 9, base)


@overload
def mod11_w27_check_digit(body: str) -> int: ...
@overload
def mod11_w27_check_digit(body: np.ndarray) -> np.ndarray: ...
def mod11_w27_check_digit(body: str | np.ndarray) -> int | np.ndarray:
    """宛名番号/世帯番号 as *newly issued* by a standard system: modulus 11, weights 2–7 cycling
    from the right; 11 − r, with remainders 0 and 1 giving 0 (the r = 1 case is unverified).

    Never reject legacy numbers with this: numbers issued before the rule need not follow it.
    """
    digits = _as_digits(body, len(body) if isinstance(body, str) else np.shape(body)[-1], "body")
    k = digits.shape[-1]
    weights = tuple(2 + (k - 1 - i) % 6 for i in range(k))
    r = _weighted_sum(digits, weights) % 11
    return _scalar_or_array(np.where(r <= 1, 0, 11 - r), body)


def lg_code_with_check_digit(code: str) -> str:
    """A 5-digit JIS X 0402 code → the 6-digit 団体コード; a 6-digit code is checked and returned."""
    if len(code) == 6:
        if not is_valid_lg_code(code):
            raise ValueError(f"{code!r} has a wrong check digit")
        return code
    return code + str(lg_code_check_digit(code))


# ---------------------------------------------------------------- validation of whole numbers

_Checker = Callable[[np.ndarray], np.ndarray]  # (n, width) digit values → (n,) bool


def _check_my_number(d: np.ndarray) -> np.ndarray:
    return my_number_check_digit(d[:, :11]) == d[:, 11]


def _check_jumin_code(d: np.ndarray) -> np.ndarray:
    return jumin_code_check_digit(d[:, :10]) == d[:, 10]


def _check_lg_code(d: np.ndarray) -> np.ndarray:
    return lg_code_check_digit(d[:, :5]) == d[:, 5]


def _check_houjin_no(d: np.ndarray) -> np.ndarray:
    return houjin_no_check_digit(d[:, 1:]) == d[:, 0]


def _check_strings(text: pl.Series, width: int, check: _Checker) -> np.ndarray:
    """Rows of a string column that are `width` ASCII digits passing `check` (nulls: False).

    The digits are read straight from the Arrow string buffer (one gather of the rows of the
    right length), not through a regex and an integer parse of every value.
    """
    arr = text.rechunk().to_arrow().cast(pa.large_string())
    n = len(arr)
    _, offsets_buffer, data_buffer = arr.buffers()
    offsets = np.frombuffer(offsets_buffer, np.int64)[arr.offset:arr.offset + n + 1]
    data = np.frombuffer(data_buffer, np.uint8) if data_buffer is not None else \
        np.zeros(0, np.uint8)
    candidate = np.diff(offsets) == width
    if arr.null_count:  # polars' mask: pyarrow's non-zero-copy to_numpy imports pandas (0.5 s)
        candidate &= text.is_not_null().to_numpy()
    rows = np.flatnonzero(candidate)
    digits = data[offsets[rows][:, None] + np.arange(width)] - np.uint8(0x30)  # wraps: > 9
    shaped = (digits <= 9).all(axis=1)
    ok = np.zeros(n, bool)
    if shaped.all():
        ok[rows] = check(digits.astype(np.int64))
    else:
        ok[rows[shaped]] = check(digits[shaped].astype(np.int64))
    return ok


def _validate(value: str | pl.Series | np.ndarray, width: int, check: _Checker
              ) -> bool | pl.Series | np.ndarray:
    if isinstance(value, str):
        if len(value) != width or not (value.isascii() and value.isdigit()):
            return False
        digits = np.frombuffer(value.encode("ascii"), dtype=np.uint8).astype(np.int64) - 48
        return bool(check(digits[None, :])[0])
    if isinstance(value, pl.Series):
        ok = _check_strings(value.cast(pl.String), width, check)
        result = pl.Series(value.name, ok, dtype=pl.Boolean)
        if value.null_count():
            result = pl.select(pl.when(value.is_null()).then(None).otherwise(result)).to_series()
            result = result.alias(value.name)
        return result
    raw = np.asarray(value)
    if raw.dtype != np.uint8 or raw.ndim != 2 or raw.shape[1] != width:
        raise TypeError(f"expected a str, a polars Series or a (n, {width}) uint8 array of "
                        f"ASCII bytes, got {type(value).__name__} {getattr(raw, 'shape', '')}")
    digits = raw.astype(np.int64) - 48
    shaped = ((digits >= 0) & (digits <= 9)).all(axis=1)
    return shaped & check(np.where(shaped[:, None], digits, 0))


@overload
def is_valid_my_number(value: str) -> bool: ...
@overload
def is_valid_my_number(value: pl.Series) -> pl.Series: ...
@overload
def is_valid_my_number(value: np.ndarray) -> np.ndarray: ...
def is_valid_my_number(value: str | pl.Series | np.ndarray) -> bool | pl.Series | np.ndarray:
    """12-digit 個人番号 whose last digit is its check digit."""
    return _validate(value, 12, _check_my_number)


@overload
def is_valid_jumin_code(value: str) -> bool: ...
@overload
def is_valid_jumin_code(value: pl.Series) -> pl.Series: ...
@overload
def is_valid_jumin_code(value: np.ndarray) -> np.ndarray: ...
def is_valid_jumin_code(value: str | pl.Series | np.ndarray) -> bool | pl.Series | np.ndarray:
    """11-digit 住民票コード under the hypothesised rule (use as a warning only)."""
    return _validate(value, 11, _check_jumin_code)


@overload
def is_valid_lg_code(value: str) -> bool: ...
@overload
def is_valid_lg_code(value: pl.Series) -> pl.Series: ...
@overload
def is_valid_lg_code(value: np.ndarray) -> np.ndarray: ...
def is_valid_lg_code(value: str | pl.Series | np.ndarray) -> bool | pl.Series | np.ndarray:
    """6-digit 団体コード (5-digit JIS code + check digit). Convert 5-digit input first."""
    return _validate(value, 6, _check_lg_code)


@overload
def is_valid_houjin_no(value: str) -> bool: ...
@overload
def is_valid_houjin_no(value: pl.Series) -> pl.Series: ...
@overload
def is_valid_houjin_no(value: np.ndarray) -> np.ndarray: ...
def is_valid_houjin_no(value: str | pl.Series | np.ndarray) -> bool | pl.Series | np.ndarray:
    """13-digit 法人番号 whose FIRST digit is its check digit."""
    return _validate(value, 13, _check_houjin_no)
