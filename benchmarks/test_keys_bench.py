"""Key tracking over many chunks: duplicates() with spills and merges, and lookup().

Each benchmark also checks the tracker's answers against numpy's first occurrence of every key
(np.unique), so a wrong duplicate or a missed one fails; no timing is asserted. The spilling
cases keep 50,000 or 5,000 keys in memory: they spill at the default size, and their runs span
several read windows at --bench-rows 1000000.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from migrate.validate.keys import KeyTracker

CHUNK = 80_000


@pytest.fixture(scope="module")
def key_values(request) -> np.ndarray:
    """Random 12-digit keys, --bench-rows of them, 1 in 50 repeating an earlier one."""
    rows = request.config.getoption("--bench-rows")
    rng = np.random.default_rng(3)
    values = rng.integers(10**11, 10**12, rows)
    repeat = rng.choice(rows, rows // 50, replace=False)
    values[repeat] = values[rng.integers(0, rows, len(repeat))]
    return values


def _chunks(values: np.ndarray, spelling: str) -> list[pl.DataFrame]:
    """Digit text (exact codes) or letter-prefixed text (hashed codes, confirmed on text)."""
    text = pl.Series(values).cast(pl.Utf8)
    if spelling == "hashed":
        text = "K" + text
    return [pl.DataFrame({"k": text.slice(start, CHUNK)})
            for start in range(0, len(values), CHUNK)]


def _expected(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of repeated keys and the position of each one's first occurrence."""
    _, first, inverse = np.unique(values, return_index=True, return_inverse=True)
    earlier = first[inverse.reshape(-1)]
    repeated = np.flatnonzero(earlier != np.arange(len(values)))
    return repeated, earlier[repeated]


def _track(chunks: list[pl.DataFrame], spill_dir, memory_keys: int
           ) -> tuple[KeyTracker, np.ndarray, np.ndarray]:
    tracker = KeyTracker(("k",), spill_dir=spill_dir, memory_keys=memory_keys)
    record = 0
    rows, earlier = [], []
    for frame in chunks:
        found, first = tracker.duplicates(
            frame, np.arange(record, record + frame.height, dtype=np.int64))
        rows.append(found + record)
        earlier.append(first)
        record += frame.height
    return tracker, np.concatenate(rows), np.concatenate(earlier)


@pytest.mark.parametrize("spelling", ["digits", "hashed"])
@pytest.mark.parametrize("memory_keys", [1_000_000, 50_000, 5_000])
def test_duplicates(benchmark, key_values, tmp_path, memory_keys, spelling):
    chunks = _chunks(key_values, spelling)
    answers = {}

    def run() -> int:
        tracker, answers["rows"], answers["earlier"] = _track(chunks, tmp_path, memory_keys)
        with tracker:
            return len(tracker)

    assert benchmark(run) == len(np.unique(key_values))
    repeated, earlier = _expected(key_values)
    assert np.array_equal(answers["rows"], repeated)
    assert np.array_equal(answers["earlier"], earlier)


@pytest.mark.parametrize("spelling", ["digits", "hashed"])
def test_lookup(benchmark, key_values, tmp_path, spelling):
    chunks = _chunks(key_values, spelling)
    tracker, _, _ = _track(chunks, tmp_path, 50_000)
    with tracker:
        probe = chunks[-1].rename({"k": "reference"})
        found = benchmark(tracker.lookup, probe)
        _, first, inverse = np.unique(key_values, return_index=True, return_inverse=True)
        start = len(key_values) - probe.height
        assert np.array_equal(found, first[inverse.reshape(-1)][start:])
        absent = pl.DataFrame({"reference": ["X" + v for v in probe["reference"].head(100)]})
        assert (tracker.lookup(absent) == -1).all()
