"""Standard-layout Parquet: each chunk's rows encoded as a part of their own (`encode_part`,
in the worker that converted them) and the parts joined into one file, page bytes copied
(ParquetJoinSink, migrate.sinks.parquetjoin): memory stays bounded by the chunk size.

Encodings follow the schema, not pyarrow's defaults: dictionary encoding only where values
repeat (codes, places: not names, personal ids or per-record identifiers, where the dictionary
overflows and is thrown away after the work of building it), and min/max statistics only for
numbers and dates of non-personal columns (a footer holding the alphabetically first and last
resident's name would put personal data where any metadata dump shows it).
"""

from __future__ import annotations

import io
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from migrate.layouts import Schema
from migrate.sinks.atomic import commit, discard, private_open, temp_path
from migrate.sinks.parquetjoin import ParquetJoiner


def encodings(schema: Schema, empty: pl.DataFrame) -> dict[str, list[str]]:
    """ParquetWriter's use_dictionary and write_statistics for a standard layout."""
    personal = {c.name for c in schema.columns if c.pii}
    identifiers = {c.name for c in schema.columns if c.dtype == "digits" and c.codes is None}
    text = {name for name, dtype in empty.schema.items() if dtype in (pl.Utf8, pl.Binary)}
    return {
        "use_dictionary": [c for c in empty.columns if c not in personal | identifiers],
        "write_statistics": [c for c in empty.columns if c not in personal | text],
    }


def encode_part(frame: pl.DataFrame, schema: Schema | None = None) -> bytes:
    """A frame as a standalone Parquet file with the standard layout's writer options: the
    part a worker writes, joined with the others by ParquetJoinSink."""
    table = frame.to_arrow()
    options = encodings(schema, frame.head(0)) if schema is not None else {}
    out = io.BytesIO()
    with pq.ParquetWriter(out, table.schema, compression="zstd", **options) as writer:
        if frame.height:
            writer.write_table(table)
    return out.getvalue()


class ParquetJoinSink:
    """One Parquet file joined from standalone Parquet parts (`encode_part`) without
    re-encoding them: their pages are copied as they come, the footer is written on commit."""

    def __init__(self, path: Path, empty: pl.DataFrame, schema: Schema | None = None):
        self.name = "parquet"
        self.path = path
        self.empty, self.schema = empty, schema
        self.temp = temp_path(path)
        self.handle = private_open(self.temp, "wb")
        self.joiner = ParquetJoiner(self.handle)

    def write(self, part: bytes) -> None:
        self.joiner.add(part)

    def commit(self) -> None:
        if not self.joiner.parts:  # no chunk at all: an empty file of the layout's columns
            self.joiner.add(encode_part(self.empty, self.schema))
        self.joiner.finish()
        self.handle.close()
        commit(self.temp, self.path)

    def abort(self) -> None:
        self.handle.close()
        discard(self.temp)

    def count(self) -> int:
        return pq.ParquetFile(self.path).metadata.num_rows

    def outputs(self) -> list[Path]:
        return [self.path]
