"""Decode a column one distinct cell at a time when its values repeat.

Codes, flags, place names, 除票 dates, romanized names: in a chunk of 77k records such a column
often holds a few dozen distinct byte strings. Every decoder is a pure function of a cell's
bytes, so decoding the distinct cells once and spreading the results back by index gives each
row exactly what decoding its own cell would, at a fraction of the cost. Cells are matched by
their bytes (hashed, then compared in full), never by a decoded value.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from migrate.decode.result import FieldResult, copy_rows, null_reasons

SAMPLE_ROWS = 2048   # rows, spread over the column, looked at to guess how much values repeat
MIN_ROWS = 4 * SAMPLE_ROWS
MAX_SHARE = 8        # at most one distinct value per this many rows, else decode every row

# Odd multiplier of the row hash (results never depend on it: rows are compared in full).
_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)


def _words(cells: np.ndarray) -> np.ndarray:
    """(n, width) bytes → (n, ceil(width / 8)) uint64 words (zero padded)."""
    n, width = cells.shape
    padded = np.empty((n, -(-width // 8) * 8), np.uint8)
    padded[:, width:] = 0
    copy_rows(cells, padded)
    return padded.view(np.uint64)


def _hash(words: np.ndarray) -> np.ndarray:
    """A polynomial hash of each row's words (wrapping uint64 arithmetic)."""
    hashes = words[:, 0].copy()
    with np.errstate(over="ignore"):
        for j in range(1, words.shape[1]):
            hashes *= _MULTIPLIER
            hashes += words[:, j]
    return hashes


def _same_rows(words: np.ndarray, some_row: np.ndarray, index: np.ndarray) -> bool:
    """Whether every row equals the representative of its value, word by word."""
    return all(np.array_equal(column[some_row][index], column) for column in words.T)


def distinct_rows(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(distinct cells, index of each row's cell among them), or None when the column is short
    or its values do not repeat enough to be worth it."""
    n, width = cells.shape
    if n < MIN_ROWS or width == 0:
        return None
    seen = np.unique(_hash(_words(cells[:: n // SAMPLE_ROWS])))  # the sample's values
    if len(seen) * MAX_SHARE > SAMPLE_ROWS:
        return None
    words = _words(cells)
    hashes = _hash(words)
    index = np.minimum(np.searchsorted(seen, hashes), len(seen) - 1)
    unseen = seen[index] != hashes
    if unseen.any():  # values the sample did not catch
        seen = np.union1d(seen, hashes[unseen])
        if len(seen) * MAX_SHARE > n:
            return None
        index = np.searchsorted(seen, hashes)
    some_row = np.empty(len(seen), np.int64)
    some_row[index] = np.arange(n)  # any row of each value will do
    if not _same_rows(words, some_row, index):  # two values with one hash: never mind
        return None
    return cells[some_row], index


def spread(result: FieldResult, index: np.ndarray) -> FieldResult:
    """The results of the distinct cells, row by row."""
    n = len(index)

    def reasons(series: pl.Series) -> pl.Series:
        return null_reasons(n) if series.null_count() == len(series) else series.gather(index)

    return FieldResult(result.values.gather(index), reasons(result.errors),
                       reasons(result.warnings))
