"""Standard-layout CSV: UTF-8, header, schema column order, ISO dates, empty = null."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from migrate.atomic import commit, discard, private_open, temp_path


class CsvSink:
    """Streams chunks into one CSV file, renamed into place on commit."""

    def __init__(self, path: Path, columns: list[str]):
        self.name = "csv"
        self.path = path
        self.columns = columns
        self.temp = temp_path(path)
        self.handle = private_open(self.temp, "wb")
        pl.DataFrame(schema={c: pl.Utf8 for c in columns}).write_csv(self.handle)

    def write(self, frame: pl.DataFrame) -> None:
        frame.select(self.columns).write_csv(self.handle, include_header=False)

    def commit(self) -> None:
        self.handle.close()
        commit(self.temp, self.path)

    def abort(self) -> None:
        self.handle.close()
        discard(self.temp)

    def count(self) -> int:
        return int(pl.scan_csv(self.path, infer_schema=False).select(pl.len()).collect().item())

    def column_sum(self, column: str) -> int:
        """Sum of a numeric-text column, re-read from the committed file."""
        return int(pl.scan_csv(self.path, infer_schema=False)
                   .select(pl.col(column).cast(pl.Int64).sum()).collect().item() or 0)

    def outputs(self) -> list[Path]:
        return [self.path]
