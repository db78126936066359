"""Rows spilled to disk in buckets by a hash of some columns, read back one bucket at a time.

`diff` and `verify` compare keys across a whole file (duplicates, rows only on one side, a
reference to a key that is not there). Holding every key in memory makes memory grow with the
rows; here each batch's key columns go, as they stream past, to one of `buckets` Parquet files
chosen by a hash of the columns the later check joins or groups on. Rows that must meet (the
same key on both sides, the members of one group) land in the same bucket, so each check runs
bucket by bucket and peak memory is that of one bucket (about `BUCKET_ROWS` rows), whatever the
number of rows. Two spills meant to be joined use the same columns (as text) and bucket count.

The files may hold personal data (keys): they live in a 0700 temporary folder of the caller's.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

BUCKET_ROWS = 250_000  # rows per bucket aimed at; a bucket's keys are a few tens of MB
MAX_BUCKETS = 512
SEED = 29


def bucket_count(rows: int | None) -> int:
    """Buckets for about `rows` rows (unknown: as for a million)."""
    estimate = rows if rows is not None and rows >= 0 else 1_000_000
    return max(1, min(MAX_BUCKETS, math.ceil(estimate / BUCKET_ROWS)))


class Spill:
    """Frames appended bucket by bucket to Parquet files under `folder`."""

    def __init__(self, folder: Path, name: str, by: list[str], buckets: int):
        self.folder = folder
        self.name = name
        self.by = by
        self.buckets = buckets
        self.rows = 0
        self._writers: dict[int, pq.ParquetWriter] = {}
        self._schema: pl.Schema | None = None

    @property
    def seen(self) -> bool:
        """Whether any frame (even an empty one) was added."""
        return self._schema is not None

    def _path(self, bucket: int) -> Path:
        return self.folder / f"{self.name}-{bucket:04d}.parquet"

    def add(self, frame: pl.DataFrame) -> None:
        if self._schema is None:
            self._schema = frame.schema
        if not frame.height:
            return
        self.rows += frame.height
        if self.buckets == 1:
            self._write(0, frame)
            return
        which = frame.select(pl.struct(self.by).hash(seed=SEED) % self.buckets).to_series()
        for (bucket,), part in frame.with_columns(which.alias("__bucket")).partition_by(
                "__bucket", as_dict=True, include_key=False).items():
            self._write(int(bucket), part)

    def _write(self, bucket: int, frame: pl.DataFrame) -> None:
        table = frame.to_arrow()
        writer = self._writers.get(bucket)
        if writer is None:
            writer = self._writers[bucket] = pq.ParquetWriter(self._path(bucket), table.schema)
        writer.write_table(table)

    def close(self) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()

    def bucket(self, bucket: int) -> pl.DataFrame:
        """The rows of one bucket (an empty frame of the right columns when it has none)."""
        if bucket in self._writers:
            self._writers.pop(bucket).close()
        path = self._path(bucket)
        if path.is_file():
            return pl.read_parquet(path)
        return pl.DataFrame(schema=self._schema or {})

    def __iter__(self) -> Iterator[pl.DataFrame]:
        self.close()
        for bucket in range(self.buckets):
            yield self.bucket(bucket)


def first_rows(found: list[int], more: pl.Series, keep: int) -> list[int]:
    """The `keep` smallest record numbers of what was found so far and `more`."""
    return sorted([*found, *more.sort().head(keep).to_list()])[:keep]
