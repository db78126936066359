"""Strategies for arbitrary field cells and the invariant every decoder result must keep."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from migrate.decode.result import REASON_CODES, FieldResult

# Bytes that matter to the decoders, over-represented: digits, space, zoned sign letters,
# packed sign nibbles, cp932 / EUC-JP lead and trail bytes, the 0x0A separator, controls.
_INTERESTING = list(b"0123456789 {}AJRz+-.\n\r\t") + [0x00, 0x1A, 0x7F, 0x80, 0x81, 0x82,
                                                       0x8E, 0x8F, 0x9F, 0xA0, 0xA1, 0xE0,
                                                       0xEF, 0xF0, 0xFC, 0xFD, 0xFE, 0xFF,
                                                       0x0C, 0x0D, 0x1C, 0x1D, 0x40]
BYTES = st.one_of(st.sampled_from(_INTERESTING), st.integers(0, 255))


@st.composite
def cell_arrays(draw: st.DrawFn, width: int | st.SearchStrategy[int] | None = None,
                max_rows: int = 24, strided: bool = True) -> np.ndarray:
    """A uint8 (n, width) array of arbitrary bytes; rows often repeat, and the array is
    sometimes a strided view into wider records, as the pipeline's fields are."""
    if width is None:
        width = st.integers(0, 12)
    w = width if isinstance(width, int) else draw(width)
    pool = draw(st.lists(st.lists(BYTES, min_size=w, max_size=w).map(bytes), min_size=1,
                         max_size=6))
    rows = draw(st.lists(st.one_of(st.sampled_from(pool),
                                   st.lists(BYTES, min_size=w, max_size=w).map(bytes)),
                         max_size=max_rows))
    flat = np.frombuffer(b"".join(rows), np.uint8).reshape(len(rows), w)
    if strided and draw(st.booleans()):
        left, right = draw(st.integers(0, 3)), draw(st.integers(0, 3))
        wide = np.full((len(rows), left + w + right), 0x20, np.uint8)
        wide[:, left:left + w] = flat
        return wide[:, left:left + w]
    return flat


def check_one_per_row(result: FieldResult, n: int) -> list[tuple[object, str | None]]:
    """Every row has a value, a reason, or neither (no value); never both, never dropped.

    Returns (value, error) per row for further checks."""
    assert len(result.values) == len(result.errors) == len(result.warnings) == n
    values, errors = result.values.to_list(), result.errors.to_list()
    warnings = result.warnings.to_list()
    for value, error, warning in zip(values, errors, warnings, strict=True):
        assert error is None or error in REASON_CODES
        assert warning is None or warning in REASON_CODES
        if error is not None:
            assert value is None, (value, error)
            assert warning is None
        if warning is not None:
            assert value is not None
    return list(zip(values, errors, strict=True))
