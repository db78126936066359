"""Decoding each distinct cell once must give every row exactly what decoding it gives, for any
bytes (fuzz)."""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import pytest
from fuzz.budget import fuzz_settings
from fuzz.cells import cell_arrays, check_one_per_row
from hypothesis import given
from hypothesis import strategies as st

import migrate.decode.distinct as distinct_module
from migrate.decode import (
    DEFAULT_ERAS,
    decode_decimal,
    decode_digits,
    decode_packed,
    decode_text,
    decode_wareki,
    decode_ymd,
    decode_zoned,
)
from migrate.decode.distinct import distinct_rows, spread


def _cells(values: list[bytes], rows: int, seed: int, rare: bytes | None = None) -> np.ndarray:
    rng = np.random.default_rng(seed)
    chosen = [values[i] for i in rng.integers(0, len(values), rows)]
    if rare is not None:
        chosen[rows * 3 // 4 + 1] = rare  # between the rows the sample looks at
    return np.frombuffer(b"".join(chosen), np.uint8).reshape(rows, -1)


def _same(cells: np.ndarray, decode) -> None:
    found = distinct_rows(cells)
    assert found is not None, "the distinct path was not taken"
    distinct, index = found
    assert len(distinct) < len(cells) // 8
    got, want = spread(decode(distinct), index), decode(cells)
    for a, b in ((got.values, want.values), (got.errors, want.errors),
                 (got.warnings, want.warnings)):
        assert a.to_list() == b.to_list()


@pytest.mark.parametrize("encoding", ["cp932", "euc_jp"])
def test_narrow_text_with_bad_cells(encoding):
    """Codes, blanks, kana, gaiji (mapped and not), a PUA trap, a control character,
    undecodable and split bytes, and a value the sample never sees."""
    values = [c.encode(encoding) for c in ("1 ", "  ", "ア", "A1", "\x0b ")]
    if encoding == "cp932":
        values += [b"\xb1 ", b"\xf0\x40", b"\xf0\x41", b"\xfd ", b"\x81 "]
    cells = _cells(values, 20_000, 3, rare=b"\xff\xff" if encoding == "cp932" else b"Z ")
    _same(cells, lambda c: decode_text(c, encoding=encoding, gaiji={"\ue000": "髙"}))


def test_wide_text_place_names():
    towns = [f"{name}{'　' * (20 - len(name))}".encode("cp932")
             for name in ("館町北", "館町南", "本町一丁目", "栄町", "髙木")]
    _same(_cells(towns, 30_000, 5, rare="新町　".ljust(20, "　").encode("cp932")), decode_text)


def test_wareki_dates_mostly_blank():
    dates = [b"0000000", b"4310101", b"5010500", b"3640229", b"9990101", b"43A0101", b"       "]
    _same(_cells(dates, 20_000, 7, rare=b"1450730"), decode_wareki)


def test_packed_amounts():
    amounts = [bytes.fromhex(h) for h in ("00000000012C", "00000000012D", "0000000001FF",
                                          "00000000000C")]
    _same(_cells(amounts, 10_000, 9), lambda c: decode_packed(c, scale=2))


def test_many_distinct_values_are_decoded_row_by_row():
    cells = np.frombuffer(b"".join(f"{i:05d}".encode() for i in range(10_000)),
                          np.uint8).reshape(-1, 5)
    assert distinct_rows(cells) is None


def test_short_columns_are_decoded_row_by_row():
    assert distinct_rows(np.zeros((100, 4), np.uint8)) is None


# ---------------------------------------------------------------- fuzz: arbitrary bytes


@contextmanager
def small_columns():
    """distinct_rows on columns of a few dozen rows (the real thresholds need thousands)."""
    saved = distinct_module.SAMPLE_ROWS, distinct_module.MIN_ROWS, distinct_module.MAX_SHARE
    distinct_module.SAMPLE_ROWS, distinct_module.MIN_ROWS, distinct_module.MAX_SHARE = 8, 16, 2
    try:
        yield
    finally:
        distinct_module.SAMPLE_ROWS, distinct_module.MIN_ROWS, distinct_module.MAX_SHARE = saved


DECODERS = {
    "text": (None, lambda c: decode_text(c, gaiji={"\ue000": "髙"})),
    "euc_jp": (None, lambda c: decode_text(c, encoding="euc_jp", strip="none")),
    "digits": (None, decode_digits),
    "decimal": (None, lambda c: decode_decimal(c, scale=2)),
    "zoned": (5, lambda c: decode_zoned(c, scale=1)),
    "packed": (4, lambda c: decode_packed(c, scale=2)),
    "wareki": (DEFAULT_ERAS.code_width + 6, lambda c: decode_wareki(c, lenient_calendar=True)),
    "ymd": (8, lambda c: decode_ymd(c, unknown=("00", "99"))),
}


@st.composite
def repeating_columns(draw: st.DrawFn) -> tuple[str, np.ndarray]:
    """A decoder and a column of 16–80 rows drawn from a few arbitrary cells (the distinct
    path's case), sometimes with a few more cells the sample may miss."""
    name = draw(st.sampled_from(sorted(DECODERS)))
    width = DECODERS[name][0] or draw(st.integers(1, 10))
    pool = draw(cell_arrays(width=width, max_rows=4, strided=False).filter(len))
    rare = draw(cell_arrays(width=width, max_rows=3, strided=False))
    n = draw(st.integers(16, 80))
    index = np.array(draw(st.lists(st.integers(0, len(pool) - 1), min_size=n, max_size=n)))
    cells = pool[index]
    for row in rare:
        cells[draw(st.integers(0, n - 1))] = row
    return name, cells


@fuzz_settings()
@given(st.one_of(repeating_columns(), st.sampled_from(sorted(DECODERS)).flatmap(
    lambda name: st.tuples(st.just(name), cell_arrays(
        width=DECODERS[name][0] or st.integers(1, 10), max_rows=64)))))
def test_fuzz_distinct_path_equals_row_by_row(case) -> None:
    """Any bytes, any decoder: the distinct path spreads back one result per row, equal to
    decoding every row."""
    name, cells = case
    decode = DECODERS[name][1]
    want = decode(cells)
    with small_columns():
        found = distinct_rows(cells)
    if found is None:
        return
    distinct, index = found
    got = spread(decode(distinct), index)
    assert check_one_per_row(got, len(cells)) == check_one_per_row(want, len(cells))
    assert got.warnings.to_list() == want.warnings.to_list()
