"""Primary-key tracking across chunks: later duplicates are found with the earlier record."""

from __future__ import annotations

import numpy as np
import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from migrate.keys import KeyTracker


def test_duplicates_within_and_across_chunks():
    tracker = KeyTracker(("k",))
    rows, earlier = tracker.duplicates(pl.DataFrame({"k": ["10", "20", "10"]}),
                                       np.array([1, 2, 3]))
    assert rows.tolist() == [2] and earlier.tolist() == [1]
    rows, earlier = tracker.duplicates(pl.DataFrame({"k": ["30", "20"]}), np.array([4, 5]))
    assert rows.tolist() == [1] and earlier.tolist() == [2]


def test_non_digit_keys_use_hash():
    tracker = KeyTracker(("a", "b"))
    frame = pl.DataFrame({"a": ["x", "x", "y"], "b": [1, 1, 1]})
    rows, earlier = tracker.duplicates(frame, np.array([7, 8, 9]))
    assert rows.tolist() == [1] and earlier.tolist() == [7]


@given(st.lists(st.lists(st.integers(0, 30), max_size=20), max_size=6))
def test_matches_a_set(chunks):
    tracker = KeyTracker(("k",))
    seen: dict[int, int] = {}
    record = 0
    for chunk in chunks:
        numbers = np.arange(record + 1, record + 1 + len(chunk))
        record += len(chunk)
        frame = pl.DataFrame({"k": pl.Series([str(v) for v in chunk], dtype=pl.Utf8)})
        rows, earlier = tracker.duplicates(frame, numbers)
        expected_rows, expected_earlier = [], []
        for i, v in enumerate(chunk):
            if v in seen:
                expected_rows.append(i)
                expected_earlier.append(seen[v])
            else:
                seen[v] = int(numbers[i])
        order = np.argsort(rows)
        assert rows[order].tolist() == expected_rows
        assert earlier[order].tolist() == expected_earlier
