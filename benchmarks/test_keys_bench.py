"""Key tracking over many chunks: duplicates() with spills and merges, and lookup()."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from migrate.validate.keys import KeyTracker

CHUNK = 80_000


@pytest.fixture(scope="module")
def key_chunks(request) -> list[pl.DataFrame]:
    """Random 12-digit text keys, --bench-rows of them, in chunks of 80k (a few duplicates)."""
    rows = request.config.getoption("--bench-rows")
    rng = np.random.default_rng(3)
    values = pl.Series(rng.integers(10**11, 10**12, rows)).cast(pl.Utf8)
    return [pl.DataFrame({"k": values.slice(start, CHUNK)}) for start in range(0, rows, CHUNK)]


def _track(chunks: list[pl.DataFrame], spill_dir, memory_keys: int) -> KeyTracker:
    tracker = KeyTracker(("k",), spill_dir=spill_dir, memory_keys=memory_keys)
    record = 0
    for frame in chunks:
        tracker.duplicates(frame, np.arange(record, record + frame.height, dtype=np.int64))
        record += frame.height
    return tracker


@pytest.mark.parametrize("memory_keys", [1_000_000, 50_000])
def test_duplicates(benchmark, key_chunks, tmp_path, memory_keys):
    def run() -> int:
        with _track(key_chunks, tmp_path, memory_keys) as tracker:
            return len(tracker)

    assert benchmark(run) > 0


def test_lookup(benchmark, key_chunks, tmp_path):
    with _track(key_chunks, tmp_path, 50_000) as tracker:
        probe = key_chunks[0].rename({"k": "reference"})
        found = benchmark(tracker.lookup, probe)
        assert (found >= 0).all()
