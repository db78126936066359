"""Primary-key tracking across chunks: later duplicates are found with the earlier record."""

from __future__ import annotations

import gc
from contextlib import contextmanager
from unittest import mock

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from migrate.validate import keys
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


def _reference(chunks, memory_keys, spill_dir, make_frame, columns=("k",), absent="never-seen"):
    """Feed chunks to a tracker and to a dict; assert identical answers chunk by chunk."""
    seen: dict = {}
    record = 0
    with KeyTracker(columns, spill_dir=spill_dir, memory_keys=memory_keys) as tracker:
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
            probe = list(seen) + [absent]
            frame = make_frame(probe)
            found = tracker.lookup(frame.rename({c: f"other_{c}" for c in frame.columns}))
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


# ---------------------------------------------------------------------- forced hash collisions
# A hash decides nothing alone: with every hash squeezed into a few values (or one), the tracker
# must still answer exactly like a dict of the real keys.


@contextmanager
def _hash_buckets(buckets: int):
    """Single-column hashes and composite folds reduced to `buckets` values."""
    real_hash, real_fold = keys._hash64, keys._fold

    def few(column):
        return real_hash(column) % np.uint64(buckets)

    def fold(codes, height):
        return (real_fold(codes, height).view(np.uint64) % np.uint64(buckets)).view(np.int64)

    with mock.patch.object(keys, "_hash64", few), mock.patch.object(keys, "_fold", fold):
        yield


def _texts(values):
    return pl.DataFrame({"k": pl.Series(values, dtype=pl.Utf8)})


def _pairs(values):
    return pl.DataFrame({"a": pl.Series([v[0] for v in values], dtype=pl.Utf8),
                         "b": pl.Series([v[1] for v in values], dtype=pl.Utf8)},
                        schema={"a": pl.Utf8, "b": pl.Utf8})


@pytest.mark.parametrize("buckets", [1, 3])
@pytest.mark.parametrize("memory_keys", [1, 7, 10_000])
def test_collisions_never_make_a_false_duplicate(tmp_path, buckets, memory_keys):
    rng = np.random.default_rng(buckets * 100 + memory_keys)
    words = [f"x{i}" for i in range(150)] + [str(i) for i in range(20)] + ["", "1" * 20]
    chunks = [[words[i] for i in rng.integers(0, len(words), 40)] for _ in range(12)]
    with _hash_buckets(buckets):
        _reference(chunks, memory_keys, tmp_path, _texts)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("buckets", [1, 2])
@pytest.mark.parametrize("memory_keys", [1, 9, 10_000])
def test_composite_collisions_never_make_a_false_duplicate(tmp_path, buckets, memory_keys):
    rng = np.random.default_rng(buckets + memory_keys)
    parts = ["1", "12", "a", "a:1", "1:", "-", "", None]
    chunks = [[(parts[i], parts[j]) for i, j in rng.integers(0, len(parts), (30, 2))]
              for _ in range(8)]
    with _hash_buckets(buckets):
        _reference(chunks, memory_keys, tmp_path, _pairs, columns=("a", "b"),
                   absent=("never", "seen"))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.sampled_from(["a", "b", "c", "ab", "1", "01", "1" * 18, "ｱ", "-"]),
                         max_size=10), max_size=8),
       st.integers(1, 6), st.integers(1, 3))
def test_collisions_match_a_dict(tmp_path_factory, chunks, memory_keys, buckets):
    with _hash_buckets(buckets):
        _reference(chunks, memory_keys, tmp_path_factory.mktemp("spill"), _texts)


def test_a_collision_is_not_a_found_reference():
    """lookup: a value whose hash equals a stored key's is absent unless its text is equal."""
    with _hash_buckets(1), KeyTracker(("k",), memory_keys=2) as tracker:
        tracker.duplicates(_texts(["alpha"]), np.array([1]))  # holds the one code
        tracker.duplicates(_texts(["beta", "gamma"]), np.array([2, 3]))  # same code, overflow
        assert len(tracker) == 3
        found = tracker.lookup(_texts(["beta", "delta", "gamma", "alpha", "delta"]))
        assert found.tolist() == [2, -1, 3, 1, -1]
    with _hash_buckets(1), KeyTracker(("a", "b")) as pairs:
        pairs.duplicates(_pairs([("1", "2"), ("12", None)]), np.array([5, 6]))
        found = pairs.lookup(_pairs([("1", "2"), ("12", None), ("1", "22"), (None, "12")]))
        assert found.tolist() == [5, 6, -1, -1]


def test_integer_and_text_spellings_still_meet_under_collisions():
    with _hash_buckets(1), KeyTracker(("k",)) as tracker:
        tracker.duplicates(pl.DataFrame({"k": [10**18, -3]}), np.array([1, 2]))
        texts = _texts([str(10**18), "-3", "-03", "x"])
        assert tracker.lookup(texts).tolist() == [1, 2, -1, -1]


# ---------------------------------------------------------------------- spill windows and merges
# Runs are read one window (`_WINDOW` codes) at a time and merged block by block: keys that sit
# in a later window of a run, or straddle a window edge, must be found like the first ones.


def _dict_oracle(chunks, tracker, numbers_of):
    """Feed `chunks`; assert every duplicate names its exact earlier record, nothing else."""
    seen: dict = {}
    for n, chunk in enumerate(chunks):
        numbers = numbers_of(n, len(chunk))
        rows, earlier = tracker.duplicates(_texts(chunk), numbers)
        expected = []
        for i, v in enumerate(chunk):
            if v in seen:
                expected.append((i, seen[v]))
            else:
                seen[v] = int(numbers[i])
        assert list(zip(rows.tolist(), earlier.tolist(), strict=True)) == expected
    assert len(tracker) == len(seen)
    return seen


@pytest.mark.parametrize("hashed", [False, True])
def test_small_windows_across_runs_and_merges(tmp_path, monkeypatch, hashed):
    """Windows of 8 codes: every run spans many windows and every tier merge many blocks."""
    monkeypatch.setattr(keys, "_WINDOW", 8)
    rng = np.random.default_rng(11)
    spell = (lambda v: f"k{v}") if hashed else str
    chunks = [[spell(v) for v in rng.integers(0, 2500, 37)] for _ in range(120)]
    with KeyTracker(("k",), spill_dir=tmp_path, memory_keys=23) as tracker:
        seen = _dict_oracle(chunks, tracker,
                            lambda n, size: np.arange(size, dtype=np.int64) + 1000 * n)
        assert max(run.size for run in tracker._runs) > 30 * 8  # runs of many windows
        assert max(run.level for run in tracker._runs) >= 2  # merges of merged runs
        probe = list(seen) + [spell(v) for v in range(2500, 2600)]
        expected = list(seen.values()) + [-1] * 100
        assert tracker.lookup(_texts(probe)).tolist() == expected
    assert not list(tmp_path.iterdir())


def test_window_edges(tmp_path, monkeypatch):
    """Every key of a run, the first and last of each window included, is found again."""
    monkeypatch.setattr(keys, "_WINDOW", 4)
    values = [str(v) for v in range(0, 200, 2)]
    with KeyTracker(("k",), spill_dir=tmp_path, memory_keys=10) as tracker:
        tracker.duplicates(_texts(values), np.arange(len(values)))  # one run of 25 windows
        tracker.duplicates(_texts(["1"] * 10), np.arange(10) + 500)  # a second run
        for value, record in zip(values, range(len(values)), strict=True):
            rows, earlier = tracker.duplicates(_texts([value, str(int(value) + 1001)]),
                                               np.array([900, 901]))
            assert rows.tolist() == [0] and earlier.tolist() == [record]


@pytest.mark.parametrize("hashed", [False, True])
def test_more_keys_than_a_window_with_small_memory(tmp_path, hashed):
    """The real window size: 300,000 keys, 50,000 in memory, so runs of several windows."""
    rng = np.random.default_rng(20)
    values = rng.integers(0, 10**9, 300_000)
    values[rng.choice(300_000, 400, replace=False)] = values[rng.integers(0, 300_000, 400)]
    spell = (lambda v: f"p{v}") if hashed else (lambda v: f"{v:010d}")
    chunks = [[spell(v) for v in values[i:i + 10_000].tolist()]
              for i in range(0, len(values), 10_000)]
    with KeyTracker(("k",), spill_dir=tmp_path, memory_keys=50_000) as tracker:
        seen = _dict_oracle(chunks, tracker,
                            lambda n, size: np.arange(size, dtype=np.int64) + 10_000 * n + 1)
        assert max(run.size for run in tracker._runs) > 3 * keys._WINDOW
        probe = list(seen)[::7] + _at_window_edges(tracker, seen)
        assert tracker.lookup(_texts(probe)).tolist() == [seen[v] for v in probe]
        rows, earlier = tracker.duplicates(_texts(probe), np.arange(len(probe)) + 10**7)
        assert rows.tolist() == list(range(len(probe)))
        assert earlier.tolist() == [seen[v] for v in probe]


def _at_window_edges(tracker: KeyTracker, seen: dict) -> list:
    """The keys stored first and last in every window of every spilled run."""
    by_code = dict(zip(keys.encode_keys(_texts(list(seen))).tolist(), seen, strict=True))
    edges = []
    for run in tracker._runs:
        codes = np.fromfile(run.keys_path, dtype=np.int64)
        starts = np.arange(0, run.size, keys._WINDOW)
        at = np.unique(np.clip(np.concatenate([starts + d for d in (-2, -1, 0, 1, 2)]),
                               0, run.size - 1))
        edges += [by_code[c] for c in codes[at].tolist()]
    assert len(edges) > 20
    return edges
