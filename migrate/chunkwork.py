"""The per-chunk work — read, decode, map, validate — as a pure function of (chunk range, context).

It runs in the main process, in a local process pool, or on a cluster worker: the result depends
only on the chunk, never on which process ran it or in what order, so outputs are byte-identical
whatever the parallelism. Key uniqueness across chunks, writing and counting stay with the caller,
which consumes outcomes in input order.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from migrate.layouts import Mapping
from migrate.mapping import RECORD_COL, ChunkMapper
from migrate.problems import concat_problems
from migrate.read import DATA, KIND_NAMES, FixedWidthReader


@dataclass(frozen=True)
class ChunkContext:
    """Everything a worker needs, picklable: the mapping, the input and its header values."""

    mapping: Mapping
    input: Path
    chunk_bytes: int
    header: dict[str, Any]


@dataclass
class ChunkOutcome:
    """What one chunk produced; `candidates` still need the cross-chunk key check."""

    first_record: int
    candidates: pl.DataFrame      # rows without problems, schema columns + __record/__offset
    errors: pl.DataFrame          # problem rows that reject their record
    warnings: pl.DataFrame        # problem rows of values kept
    kinds: Counter                # records by kind name
    data_read: int                # data records (incl. unknown-type records)
    rejected_records: pl.Series   # record numbers rejected in this chunk (before key check)
    control_values: dict[str, pl.DataFrame]  # field → (record, value) of every data record


class ChunkWorker:
    """Holds the per-process state (mapper, validator) built once from a ChunkContext."""

    def __init__(self, context: ChunkContext):
        from migrate.validate import Validator, field_offsets  # pandera: import only here

        self.context = context
        self.reader = FixedWidthReader(context.input, context.mapping.source,
                                       context.chunk_bytes)
        self.mapper = ChunkMapper(context.mapping, context.header)
        self.validator = Validator(context.mapping.target, field_offsets(context.mapping))

    def process(self, first_record: int, n: int) -> ChunkOutcome:
        chunk = self.reader.read_chunk(first_record, n)
        mapped = self.mapper.map(chunk)
        rows = mapped.rows
        v_errors, v_warnings = self.validator.validate(rows)
        # A value that failed to decode is already a problem; don't report its null again.
        decoded_bad = mapped.errors.select("record", "column").drop_nulls().unique()
        if decoded_bad.height and v_errors.height:
            v_errors = v_errors.join(decoded_bad, on=["record", "column"], how="anti")
        errors = concat_problems([mapped.errors, v_errors])
        rejected = errors["record"].unique(maintain_order=True)
        candidates = rows.filter(~pl.col(RECORD_COL).is_in(rejected.implode()))
        kinds = Counter({KIND_NAMES[int(k)]: int(c) for k, c in
                         zip(*np.unique(chunk.kinds, return_counts=True), strict=True)})
        control = {name: pl.DataFrame({"record": rows[RECORD_COL], "value": values})
                   for name, values in mapped.control_values.items()}
        return ChunkOutcome(
            first_record=first_record, candidates=candidates, errors=errors,
            warnings=concat_problems([mapped.warnings, v_warnings]), kinds=kinds,
            data_read=int(np.count_nonzero(chunk.kinds == DATA)) + mapped.unknown_records,
            rejected_records=rejected, control_values=control)


_WORKER: ChunkWorker | None = None


def init_worker(context: ChunkContext) -> None:
    """Process-pool initializer: build the worker state once per process."""
    global _WORKER
    _WORKER = ChunkWorker(context)


def process_in_worker(first_record: int, n: int) -> ChunkOutcome:
    """Process-pool task (module-level so it pickles by reference)."""
    assert _WORKER is not None, "init_worker was not called"
    return _WORKER.process(first_record, n)
