"""decode_binary (COBOL COMP / BINARY): big-endian two's complement of 2, 4 or 8 bytes, exact,
against int.from_bytes; and the encoder's round trip."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from migrate.decode import decode_binary
from migrate.transform.encode import encode_binary


def _cells(rows: list[bytes], width: int) -> np.ndarray:
    return np.frombuffer(b"".join(rows), np.uint8).reshape(len(rows), width)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from((2, 4, 8)).flatmap(
    lambda w: st.lists(st.binary(min_size=w, max_size=w), max_size=30).map(lambda r: (w, r))))
def test_any_bytes_read_as_int_from_bytes(case) -> None:
    width, rows = case
    result = decode_binary(_cells(rows, width))
    expected = [int.from_bytes(r, "big", signed=True) for r in rows]
    fits = [abs(v) < 10 ** 18 for v in expected]
    assert result.values.to_list() == [v if ok else None for v, ok in zip(expected, fits,
                                                                           strict=True)]
    assert result.errors.to_list() == [None if ok else "invalid_binary" for ok in fits]
    assert result.warnings.null_count() == len(rows)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from((2, 4, 8)).flatmap(lambda w: st.tuples(st.just(w), st.lists(
    st.integers(-min(1 << (8 * w - 1), 10 ** 18 - 1), min((1 << (8 * w - 1)) - 1,
                                                           10 ** 18 - 1)), max_size=30))),
       st.integers(0, 4))
def test_encode_then_decode_is_the_identity(case, scale) -> None:
    width, values = case
    cells = encode_binary(values, width)
    assert cells.shape == (len(values), width)
    decoded = decode_binary(cells, scale=scale).values.to_list()
    assert decoded == [v if scale == 0 else Decimal(v).scaleb(-scale) for v in values]


def test_halfword_fullword_and_signs() -> None:
    rows = [b"\x00\x01", b"\xff\xff", b"\x27\x0f", b"\x80\x00"]
    assert decode_binary(_cells(rows, 2)).values.to_list() == [1, -1, 9999, -32768]
    assert decode_binary(_cells([b"\x00\x00\x30\x39"], 4), scale=2).values.to_list() == \
        [Decimal("123.45")]


def test_other_widths_and_values_that_do_not_fit_are_refused() -> None:
    with pytest.raises(ValueError):
        decode_binary(np.zeros((1, 3), np.uint8))
    with pytest.raises(ValueError):
        encode_binary([40000], 2)
