"""Standard-layout Parquet, written row group by row group (bounded memory)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from migrate.atomic import commit, discard, private_open, temp_path


class ParquetSink:
    """Streams chunks into one Parquet file, renamed into place on commit."""

    def __init__(self, path: Path, empty: pl.DataFrame):
        self.name = "parquet"
        self.path = path
        self.columns = empty.columns
        self.temp = temp_path(path)
        self.handle = private_open(self.temp, "wb")
        self.writer = pq.ParquetWriter(self.handle, empty.to_arrow().schema, compression="zstd")

    def write(self, frame: pl.DataFrame) -> None:
        if frame.height:
            self.writer.write_table(frame.select(self.columns).to_arrow())

    def commit(self) -> None:
        self.writer.close()
        self.handle.close()
        commit(self.temp, self.path)

    def abort(self) -> None:
        self.writer.close()
        self.handle.close()
        discard(self.temp)

    def count(self) -> int:
        return pq.ParquetFile(self.path).metadata.num_rows

    def outputs(self) -> list[Path]:
        return [self.path]
