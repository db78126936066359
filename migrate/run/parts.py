"""Per-chunk output parts: workers write the rows, the main process assembles the outputs.

A worker that converted a chunk writes its candidate rows (those without problems, before the
checks that need the whole file) into the run's staging folder as two parts, named by the
chunk's place in the input:

    .parts/part-000042.csv      the rows as lines of the standard CSV (no header), final bytes
    .parts/part-000042.parquet  the same rows as a standalone Parquet file, encoded with the
                                standard Parquet's options (migrate.sinks.parquet.encode_part)

and returns only what the main process needs to decide on them (keys, references, group
columns, problems, counts, control values: `settle_columns`). The main process checks keys
across chunks in input order, as before; a row it rejects there (a duplicate key, a reference,
a failing group) is dropped from the chunk's parts as they are appended, in chunk order, to
the one CSV file (a byte copy when nothing is dropped) and to the one Parquet file (the part's
pages copied under a new footer, migrate.sinks.parquetjoin; a part that lost rows is encoded
again without them), and read into the database. The outputs are byte-identical whatever the
number of workers or the engine: each part depends only on its chunk.
"""

from __future__ import annotations

import hashlib
import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from migrate.layouts import Schema
from migrate.sinks.atomic import private_open
from migrate.sinks.csv import CsvSink
from migrate.sinks.parquet import ParquetJoinSink, encode_part
from migrate.sinks.publish import PARTS
from migrate.transform.mapper import OFFSET_COL, RECORD_COL

PARTS_DIR = PARTS  # in the staging folder; removed before the folder is published


@dataclass(frozen=True)
class PartFile:
    """One written part: its name in the parts folder, size and SHA-256 (checked on resume)."""

    name: str
    size: int
    sha256: str


@dataclass(frozen=True)
class ChunkParts:
    """The parts of one chunk: its candidate rows as CSV lines and as Parquet."""

    index: int
    rows: int
    csv: PartFile
    parquet: PartFile

    def files(self) -> tuple[PartFile, PartFile]:
        return self.csv, self.parquet


def part_name(index: int, suffix: str) -> str:
    return f"part-{index:06d}.{suffix}"


def settle_columns(schema: Schema) -> list[str]:
    """The columns of the candidate rows the main process needs to settle a chunk: the primary
    key, references (and their exemptions), group checks, the record number and offset."""
    needed = set(schema.primary_key)
    for spec in schema.columns:
        if spec.references is not None:
            needed.update(spec.references.columns)
            needed.update(spec.references.unless)
    for check in schema.group_checks:
        needed.update((*check.group_by, *check.count_where, *check.among))
    return [c for c in schema.column_names if c in needed] + [RECORD_COL, OFFSET_COL]


def write_part(folder: Path, name: str, data: bytes) -> PartFile:
    """One file of the parts folder, owner-only and fsynced, with its size and SHA-256."""
    with private_open(folder / name, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    return PartFile(name, len(data), hashlib.sha256(data).hexdigest())


def write_parts(folder: Path, index: int, candidates: pl.DataFrame, columns: list[str],
                schema: Schema | None = None) -> ChunkParts:
    """Write a chunk's candidate rows as its CSV and Parquet parts (in the worker), fsynced;
    `schema`: the standard layout, whose Parquet options the part is encoded with."""
    rows = candidates.select(columns)
    text = io.BytesIO()
    rows.write_csv(text, include_header=False)
    return ChunkParts(index, rows.height,
                      write_part(folder, part_name(index, "csv"), text.getvalue()),
                      write_part(folder, part_name(index, "parquet"), encode_part(rows, schema)))


def part_intact(folder: Path, part: PartFile) -> bool:
    """Whether a part on disk is the one the journal recorded (size and SHA-256)."""
    path = folder / part.name
    try:
        if path.stat().st_size != part.size:
            return False
        with open(path, "rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest() == part.sha256
    except OSError:
        return False


@dataclass(frozen=True)
class Piece:
    """What goes from a chunk into the outputs: its parts, less the rows the main process
    rejected (`keep` is None when it keeps them all)."""

    folder: Path
    parts: ChunkParts
    keep: np.ndarray | None

    def frame(self) -> pl.DataFrame:
        """The kept rows, read from the Parquet part."""
        frame = pl.read_parquet(self.folder / self.parts.parquet.name)
        return frame if self.keep is None else frame.filter(pl.Series(self.keep))

    def parquet(self, schema: Schema | None) -> bytes:
        """The kept rows as a Parquet part: the worker's, or encoded again without the rows
        the main process dropped."""
        if self.keep is None:
            return (self.folder / self.parts.parquet.name).read_bytes()
        return encode_part(self.frame(), schema)

    def csv_lines(self) -> bytes:
        """The kept rows as CSV lines: the part's bytes, less the lines of dropped rows (one
        line per row: text with line breaks is rejected when it is decoded)."""
        data = (self.folder / self.parts.csv.name).read_bytes()
        if self.keep is None:
            return data
        ends = np.flatnonzero(np.frombuffer(data, np.uint8) == ord("\n")) + 1
        if len(ends) != len(self.keep):
            raise RuntimeError(f"{self.parts.csv.name}: {len(ends)} lines for "
                               f"{len(self.keep)} rows")
        starts = np.concatenate(([0], ends[:-1]))
        # the kept lines as runs of consecutive lines: one slice per run, not per line
        edges = np.flatnonzero(np.diff(np.concatenate(([False], self.keep, [False])).astype(
            np.int8)))
        return b"".join(data[starts[a]:ends[b - 1]]
                        for a, b in zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


class PartCsvSink(CsvSink):
    """The standard CSV, assembled from the chunks' CSV parts in chunk order."""

    def write(self, piece: Piece) -> None:  # type: ignore[override]
        self.handle.write(piece.csv_lines())


class PartFrameSink:
    """A frame sink (the database) fed from the chunks' Parquet parts: the part is read in
    the sink's own thread (see BackgroundSink)."""

    def __init__(self, sink: object):
        self.sink = sink
        self.name = sink.name  # type: ignore[attr-defined]

    def write(self, piece: Piece) -> None:
        self.sink.write(piece.frame())  # type: ignore[attr-defined]

    def __getattr__(self, name: str):
        return getattr(self.sink, name)


class PartParquetSink(ParquetJoinSink):
    """The standard Parquet file, joined from the chunks' Parquet parts in chunk order."""

    def write(self, piece: Piece) -> None:  # type: ignore[override]
        super().write(piece.parquet(self.schema))


def new_parts_folder(folder: Path) -> Path:
    """The parts folder of a run, owner-only."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder
