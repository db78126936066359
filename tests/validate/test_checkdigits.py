"""Check digits: the worked examples of shared/domain/check_digits.md, and property tests that
the vectorized forms agree with the reference snippet of that page."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from migrate.validate.checkdigits import (
    digit_matrix,
    houjin_no_check_digit,
    is_valid_houjin_no,
    is_valid_jumin_code,
    is_valid_lg_code,
    is_valid_my_number,
    jumin_code_check_digit,
    lg_code_check_digit,
    lg_code_with_check_digit,
    mod11_w27_check_digit,
    my_number_check_digit,
)

# ---------------------------------------------------------------- reference snippet (verbatim)


def ref_my_number_cd(d11: str) -> int:
    s = sum(int(c) * (n + 1 if n <= 6 else n - 5) for n, c in enumerate(reversed(d11), start=1))
    r = s % 11
    return 0 if r <= 1 else 11 - r


def ref_lg_code_cd(d5: str) -> int:
    s = sum(int(c) * w for c, w in zip(d5, (6, 5, 4, 3, 2), strict=True))
    return (11 - s % 11) % 10


def ref_houjin_cd(base12: str) -> int:
    s = sum(int(c) * (1 if n % 2 else 2) for n, c in enumerate(reversed(base12), start=1))
    return 9 - s % 9


def ref_m11_w2_7_remainder(body: str) -> int:
    return sum(int(c) * (2 + i % 6) for i, c in enumerate(reversed(body))) % 11


def digits(n: int) -> st.SearchStrategy[str]:
    return st.text("0123456789", min_size=n, max_size=n)


# ---------------------------------------------------------------- worked examples


def test_my_number_examples() -> None:
    assert my_number_check_digit("12345678901") == 8
    assert is_valid_my_number("123456789018")
    assert is_valid_my_number("983205673214")
    assert not is_valid_my_number("123456789010")


def test_lg_code_examples() -> None:
    assert lg_code_check_digit("13101") == 6
    assert is_valid_lg_code("131016")
    assert not is_valid_lg_code("131017")
    # remainders 0, 1 and 10: the three edge cases of "last digit of 11 − r"
    assert lg_code_with_check_digit("01101") == "011011"
    assert lg_code_with_check_digit("01107") == "011070"
    assert lg_code_with_check_digit("13000") == "130001"
    for published in ("271004", "141003", "011011", "011070", "130001"):
        assert is_valid_lg_code(published)
        assert lg_code_with_check_digit(published) == published
    with pytest.raises(ValueError):
        lg_code_with_check_digit("131017")


def test_houjin_no_examples() -> None:
    assert houjin_no_check_digit("000012050002") == 7
    assert is_valid_houjin_no("7000012050002")
    assert is_valid_houjin_no("4011001098993")
    assert not is_valid_houjin_no("8000012050002")


def test_jumin_code_example_under_the_hypothesis() -> None:
    assert jumin_code_check_digit("2472705960") == 8
    assert is_valid_jumin_code("24727059608")
    assert not is_valid_jumin_code("24727059600")


def test_atena_no_rule_for_new_numbers() -> None:
    assert mod11_w27_check_digit("1234567") == 4  # 12345674


@pytest.mark.parametrize("bad", ["", "12345678901", "1234567890188", "12345678901x",
                                 "１23456789018", " 23456789018", "-23456789018"])
def test_malformed_strings_are_invalid(bad: str) -> None:
    assert is_valid_my_number(bad) is False


def test_body_must_have_its_length() -> None:
    with pytest.raises(ValueError):
        my_number_check_digit("1234567890")
    with pytest.raises(ValueError):
        lg_code_check_digit(np.zeros((3, 4), np.int64))


# ---------------------------------------------------------------- polars and numpy forms


def test_series_keeps_nulls_and_rejects_malformed() -> None:
    values = pl.Series("kojin_no", ["123456789018", None, "12345678901x", "983205673214",
                                    "123456789010", "１23456789018", "12345678901"])
    result = is_valid_my_number(values)
    assert result.name == "kojin_no"
    assert result.dtype == pl.Boolean
    assert result.to_list() == [True, None, False, True, False, False, False]


def test_series_without_nulls() -> None:
    assert is_valid_lg_code(pl.Series(["131016", "131017"])).to_list() == [True, False]
    assert is_valid_houjin_no(pl.Series(["7000012050002"])).to_list() == [True]
    assert is_valid_jumin_code(pl.Series(["24727059608"])).to_list() == [True]


def test_raw_ascii_field_bytes() -> None:
    cells = np.frombuffer(b"123456789018983205673214            12345678901A", np.uint8)
    assert is_valid_my_number(cells.reshape(4, 12)).tolist() == [True, True, False, False]
    with pytest.raises(TypeError):
        is_valid_my_number(cells.reshape(2, 24))


def test_digit_matrix() -> None:
    assert digit_matrix(np.array([12345678901, 7]), 11).tolist() == [
        [1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1], [0] * 10 + [7]]


# ---------------------------------------------------------------- properties


@given(digits(11))
def test_my_number_agrees_with_reference(body: str) -> None:
    cd = ref_my_number_cd(body)
    assert my_number_check_digit(body) == cd
    assert is_valid_my_number(body + str(cd))
    assert not any(is_valid_my_number(body + str(d)) for d in range(10) if d != cd)


@given(digits(10))
def test_jumin_code_is_the_my_number_rule_on_ten_digits(body: str) -> None:
    cd = ref_my_number_cd(body)
    assert jumin_code_check_digit(body) == cd
    assert is_valid_jumin_code(body + str(cd))


@given(digits(5))
def test_lg_code_agrees_with_reference(body: str) -> None:
    cd = ref_lg_code_cd(body)
    assert lg_code_check_digit(body) == cd
    assert lg_code_with_check_digit(body) == body + str(cd)
    assert not is_valid_lg_code(body + str((cd + 1) % 10))


@given(digits(12))
def test_houjin_no_agrees_with_reference(base: str) -> None:
    cd = ref_houjin_cd(base)
    assert 1 <= cd <= 9
    assert houjin_no_check_digit(base) == cd
    assert is_valid_houjin_no(str(cd) + base)
    assert not is_valid_houjin_no(str(cd % 9 + 1) + base)


@given(st.text("0123456789", min_size=1, max_size=14))
def test_mod11_w27_agrees_with_reference(body: str) -> None:
    r = ref_m11_w2_7_remainder(body)
    assert mod11_w27_check_digit(body) == (0 if r <= 1 else 11 - r)


@given(st.lists(digits(11), min_size=1, max_size=30), st.lists(st.booleans(), min_size=30,
                                                               max_size=30))
def test_vectorized_forms_agree_with_scalar(bodies: list[str], corrupt: list[bool]) -> None:
    numbers = []
    for body, bad in zip(bodies, corrupt, strict=False):
        cd = ref_my_number_cd(body)
        numbers.append(body + str((cd + 1) % 10 if bad else cd))
    expected = [is_valid_my_number(v) for v in numbers]
    assert is_valid_my_number(pl.Series(numbers)).to_list() == expected
    cells = np.frombuffer("".join(numbers).encode(), np.uint8).reshape(-1, 12)
    assert is_valid_my_number(cells).tolist() == expected
    body_digits = digit_matrix(np.array([int(b) for b in bodies], np.int64), 11)
    assert my_number_check_digit(body_digits).tolist() == [ref_my_number_cd(b) for b in bodies]


def test_series_slice_reads_its_own_rows() -> None:
    """The digits are read from the Arrow buffers: a slice must read its rows, not the
    parent's first ones."""
    values = pl.Series(["123456789018", "12345678901x", None, "983205673214", "123456789010"])
    assert is_valid_my_number(values.slice(2, 3)).to_list() == [None, True, False]
    assert is_valid_my_number(values.slice(3, 1)).to_list() == [True]


def test_checking_a_column_with_nulls_does_not_import_pandas():
    """pyarrow's non-zero-copy to_numpy imports pandas (half a second of every worker's CPU
    before this was found with py-spy): the null mask comes from polars."""
    import subprocess
    import sys

    code = ("import sys, polars as pl; from migrate.validate.checkdigits import "
            "is_valid_my_number; s = pl.Series(['123456789018', None, '12']); "
            "print(is_valid_my_number(s).to_list(), 'pandas' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[True, None, False] False"
