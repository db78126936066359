"""Primary-key tracking across chunks: later duplicates are found with the earlier record."""

from __future__ import annotations

import gc

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from migrate.validate.keys import KeyTracker


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


def _reference(chunks, memory_keys, spill_dir, make_frame):
    """Feed chunks to a tracker and to a dict; assert identical answers chunk by chunk."""
    seen: dict = {}
    record = 0
    with KeyTracker(("k",), spill_dir=spill_dir, memory_keys=memory_keys) as tracker:
        for chunk in chunks:
            numbers = np.arange(record, record + len(chunk), dtype=np.int64) * 3 + (1 << 40)
            record += len(chunk)
            rows, earlier = tracker.duplicates(make_frame(chunk), numbers)
            expected_rows, expected_earlier = [], []
            for i, v in enumerate(chunk):
                if v in seen:
                    expected_rows.append(i)
                    expected_earlier.append(seen[v])
                else:
                    seen[v] = int(numbers[i])
            assert rows.tolist() == expected_rows
            assert earlier.tolist() == expected_earlier
            assert len(tracker) == len(seen)
        if seen:
            probe = list(seen) + ["never-seen"]
            found = tracker.lookup(make_frame(probe).rename({"k": "other_name"}))
            assert found.tolist() == [*seen.values(), -1]
    return tracker


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.integers(0, 60), max_size=25), max_size=12),
       st.integers(1, 12))
def test_matches_a_dict_across_flushes_and_merges(tmp_path_factory, chunks, memory_keys):
    keys = [[f"{v:0{1 + v % 3}d}" for v in chunk] for chunk in chunks]  # "7", "07", "007"...
    _reference(keys, memory_keys, tmp_path_factory.mktemp("spill"),
               lambda values: pl.DataFrame({"k": pl.Series(values, dtype=pl.Utf8)}))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.sampled_from(["1", "01", "x", "", "123456789012345678", "-1",
                                          "99999999999999999", "099999999999999999", None]),
                         max_size=8), max_size=8))
def test_mixed_exact_and_hashed_values_across_chunks(tmp_path_factory, chunks):
    chunks = [[v for v in chunk if v is not None] for chunk in chunks]
    _reference(chunks, 3, tmp_path_factory.mktemp("spill"),
               lambda values: pl.DataFrame({"k": pl.Series(values, dtype=pl.Utf8)}))


def test_many_runs_against_a_dict(tmp_path):
    rng = np.random.default_rng(5)
    chunks = [rng.integers(0, 3000, 400).tolist() for _ in range(30)]
    tracker = _reference([[str(v) for v in c] for c in chunks], 10, tmp_path,
                         lambda values: pl.DataFrame({"k": values}))
    assert not list(tmp_path.iterdir())  # context exit removed the spill directory
    assert len(tracker) == 0


def test_leading_zeros_are_distinct_keys():
    tracker = KeyTracker(("k",))
    rows, _ = tracker.duplicates(pl.DataFrame({"k": ["0012", "12", "012", "0012"]}),
                                 np.array([1, 2, 3, 4]))
    assert rows.tolist() == [3]
    assert tracker.lookup(pl.DataFrame({"x": ["12", "00012"]})).tolist() == [2, -1]


def test_exact_and_hashed_chunks_agree():
    """A chunk that is all digits and one that needs hashing code the same value alike."""
    tracker = KeyTracker(("k",), memory_keys=2)
    tracker.duplicates(pl.DataFrame({"k": ["5", "123456789012345678"]}), np.array([1, 2]))
    rows, earlier = tracker.duplicates(
        pl.DataFrame({"k": ["abc", "5", "123456789012345678"]}), np.array([3, 4, 5]))
    assert rows.tolist() == [1, 2] and earlier.tolist() == [1, 2]
    tracker.close()


def test_lookup_integer_columns_and_composite_keys():
    tracker = KeyTracker(("a", "b"), memory_keys=2)
    tracker.duplicates(pl.DataFrame({"a": ["1", "2", "2"], "b": ["x", "x", "y"]}),
                       np.array([10, 11, 12]))
    tracker.duplicates(pl.DataFrame({"a": ["3"], "b": ["z"]}), np.array([13]))
    refs = pl.DataFrame({"p": [2, 3, 1, 2], "q": ["y", "z", "y", "x"]})  # Int64 refers to text
    assert tracker.lookup(refs).tolist() == [12, 13, -1, 11]
    with pytest.raises(ValueError):
        tracker.lookup(refs.select("p"))
    single = KeyTracker(("k",))
    single.duplicates(pl.DataFrame({"k": [7, -7, None, 10**18]}), np.array([1, 2, 3, 4]))
    texts = pl.DataFrame({"k": ["7", "-7", None, str(10**18), "07"]})
    assert single.lookup(texts).tolist() == [1, 2, 3, 4, -1]


def test_spill_files_are_removed(tmp_path):
    tracker = KeyTracker(("k",), spill_dir=tmp_path, memory_keys=5)
    for start in range(0, 100, 10):
        tracker.duplicates(pl.DataFrame({"k": [str(v) for v in range(start, start + 10)]}),
                           np.arange(start, start + 10))
    assert len(tracker) == 100 and any(tmp_path.rglob("*.keys"))
    assert len(tracker._runs) < 10  # tiering merged runs of one level
    tracker.close()
    assert not list(tmp_path.iterdir())
    collected = KeyTracker(("k",), spill_dir=tmp_path, memory_keys=1)
    collected.duplicates(pl.DataFrame({"k": ["1", "2"]}), np.array([1, 2]))
    assert list(tmp_path.iterdir())
    del collected
    gc.collect()
    assert not list(tmp_path.iterdir())
