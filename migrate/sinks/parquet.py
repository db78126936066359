"""Standard-layout Parquet, written row group by row group (bounded memory).

Encodings follow the schema, not pyarrow's defaults: dictionary encoding only where values
repeat (codes, places: not names, personal ids or per-record identifiers, where the dictionary
overflows and is thrown away after the work of building it), and min/max statistics only for
numbers and dates of non-personal columns (a footer holding the alphabetically first and last
resident's name would put personal data where any metadata dump shows it).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from migrate.layouts import Schema
from migrate.sinks.atomic import commit, discard, private_open, temp_path


def encodings(schema: Schema, empty: pl.DataFrame) -> dict[str, list[str]]:
    """ParquetWriter's use_dictionary and write_statistics for a standard layout."""
    personal = {c.name for c in schema.columns if c.pii}
    identifiers = {c.name for c in schema.columns if c.dtype == "digits" and c.codes is None}
    text = {name for name, dtype in empty.schema.items() if dtype in (pl.Utf8, pl.Binary)}
    return {
        "use_dictionary": [c for c in empty.columns if c not in personal | identifiers],
        "write_statistics": [c for c in empty.columns if c not in personal | text],
    }


class ParquetSink:
    """Streams chunks into one Parquet file, renamed into place on commit."""

    def __init__(self, path: Path, empty: pl.DataFrame, schema: Schema | None = None):
        self.name = "parquet"
        self.path = path
        self.columns = empty.columns
        self.temp = temp_path(path)
        self.handle = private_open(self.temp, "wb")
        options = encodings(schema, empty) if schema is not None else {}
        self.writer = pq.ParquetWriter(self.handle, empty.to_arrow().schema, compression="zstd",
                                       **options)

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
