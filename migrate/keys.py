"""Primary-key uniqueness across the whole run, in memory proportional to the keys (8 bytes each).

Keys seen so far are kept as one sorted int64 array (with the record number that introduced each),
merged chunk by chunk; a digit-string key is used exactly, other keys through a 64-bit hash.
"""

from __future__ import annotations

import numpy as np
import polars as pl


class KeyTracker:
    """Finds records whose key was already accepted earlier in the run (or earlier in the chunk)."""

    def __init__(self, key_columns: tuple[str, ...]):
        self.key_columns = key_columns
        self.keys = np.empty(0, dtype=np.int64)
        self.records = np.empty(0, dtype=np.int64)

    def _key_values(self, rows: pl.DataFrame) -> np.ndarray:
        if len(self.key_columns) == 1:
            column = rows[self.key_columns[0]]
            exact = column.cast(pl.Int64, strict=False) if column.dtype == pl.Utf8 else None
            if exact is not None and exact.null_count() == column.null_count() and \
                    bool(column.str.len_chars().max() or 0) <= 18:
                return exact.fill_null(-1).to_numpy()
        return rows.select(pl.struct(list(self.key_columns)).hash(seed=0x5EED)).to_series() \
            .reinterpret(signed=True).to_numpy()

    def duplicates(self, rows: pl.DataFrame, records: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Row positions of duplicates in `rows` and the earlier record each one repeats.

        Non-duplicates are added to the seen set.
        """
        if not self.key_columns or rows.height == 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        keys = self._key_values(rows)
        order = np.argsort(keys, kind="stable")
        sorted_keys = keys[order]
        first_in_chunk = np.ones(len(keys), dtype=bool)
        first_in_chunk[1:] = sorted_keys[1:] != sorted_keys[:-1]
        # earlier occurrence inside the chunk: the first row of each run of equal keys
        run_start = np.maximum.accumulate(np.where(first_in_chunk, np.arange(len(keys)), 0))
        earlier_record = records[order[run_start]]
        position = np.searchsorted(self.keys, sorted_keys)
        clipped = np.minimum(position, max(len(self.keys) - 1, 0))
        seen_before = (len(self.keys) > 0) & (self.keys[clipped] == sorted_keys) \
            if len(self.keys) else np.zeros(len(keys), dtype=bool)
        earlier_record = np.where(seen_before, self.records[clipped] if len(self.keys)
                                  else earlier_record, earlier_record)
        duplicate_sorted = seen_before | ~first_in_chunk
        new = ~duplicate_sorted
        insert_at = position[new]
        self.keys = np.insert(self.keys, insert_at, sorted_keys[new])
        self.records = np.insert(self.records, insert_at, records[order[new]])
        dup_rows = order[duplicate_sorted]
        return dup_rows, earlier_record[duplicate_sorted]
