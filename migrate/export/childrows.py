"""A child record type written back from the rows another mapping of the same file keeps one
each (a mapping's `write_back: {record: {records: other.yaml, match: …}}`): vendor_a/zeimu's
income records from zeimu_shotoku/v1. The rows are encoded by the other mapping and put among
the parent records in source-record order, each after the parent it followed in the file."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import polars as pl

from migrate.errors import UsageError
from migrate.export.cells import integers_of
from migrate.layouts.writeback import WriteBack


class ChildRows:
    """A child record type written from the rows another mapping of the same file keeps
    (`write_back: {record: {records: …}}`), encoded by that mapping as its data records. The
    rows come in source-record order like the parents; each belongs to the parent before it
    and must match it (`match`), or the export stops: rows from another run or another file
    would otherwise be written under the wrong taxpayer."""

    def __init__(self, parent: Any, writer: Any, wb: WriteBack,
                 frames: Iterator[pl.DataFrame]):  # FixedWriters: that module imports this
        self.parent = parent  # writes the parent records
        self.wb = wb
        self.writer = writer  # writes the rows as the other mapping's data records
        self.frames = frames
        self.record_column = self.writer.record_column
        if self.record_column is None:
            raise UsageError("the mapping {mapping} has no source record number column; its "
                             "rows cannot be put after their parents",
                             {"mapping": wb.records.id}, file=wb.records.path)
        self.buffer = pl.DataFrame()
        self.exhausted = False
        self.last_parent: dict[str, str | None] | None = None  # its match values, as text
        # the parent's control totals over these records (income.amount): their field's column
        self.totals = {name: self.writer.field_column.get(name.partition(".")[2])
                       for name in parent.totals if name.partition(".")[0] == wb.field}

    def _pull(self, upto: int | None) -> pl.DataFrame:
        """The buffered rows with a source record number below `upto` (all when None)."""
        column = self.record_column
        assert column is not None
        while not self.exhausted and (self.buffer.is_empty() or upto is None
                                      or int(self.buffer[column][-1]) < upto):
            frame = next(self.frames, None)
            if frame is None:
                self.exhausted = True
            elif frame.height:
                frame = frame.sort(column)
                self.buffer = frame if self.buffer.is_empty() else pl.concat(
                    [self.buffer, frame], how="vertical_relaxed")
        if self.buffer.is_empty():
            return self.buffer
        if upto is None:
            taken, self.buffer = self.buffer, self.buffer.clear()
            return taken
        split = int(np.searchsorted(self.buffer[column].cast(pl.Int64).to_numpy(), upto))
        taken, self.buffer = self.buffer.head(split), self.buffer.slice(split)
        return taken

    def _check(self, rows: pl.DataFrame, parents: pl.DataFrame | None, owner: np.ndarray
               ) -> None:
        """Each row matches the parent it follows (`owner`: its row in `parents`, -1 for the
        last parent before them)."""
        follows_last = pl.Series(owner < 0)
        at = pl.Series(np.maximum(owner, 0))
        for mine, theirs in self.wb.match:
            previous = None if self.last_parent is None else self.last_parent[mine]
            wanted = pl.repeat(previous, rows.height, dtype=pl.Utf8, eager=True)
            if parents is not None:
                own = parents[mine].cast(pl.Utf8).gather(at)
                wanted = pl.select(pl.when(follows_last).then(wanted).otherwise(own)).to_series()
            bad = (rows[theirs].cast(pl.Utf8) != wanted).fill_null(True)  # no parent: bad
            if bad.any():
                record = int(rows[self.record_column][int(bad.arg_true()[0])])
                raise UsageError(
                    "the {layout} row of source record {record} does not follow a parent "
                    "record with the same {column}", {"layout": self.wb.layout, "record": record,
                                                      "column": mine},
                    file=self.parent.mapping.path,
                    hint="Export from one run's output folder, plan folder or database, where "
                         "both layouts come from the same file.")

    def _encode(self, rows: pl.DataFrame) -> np.ndarray:
        raw = self.writer.data(rows)
        for name, cm in self.totals.items():
            if cm is not None and cm.column in rows.columns:
                spec = self.writer.mapping.fields[name.partition(".")[2]]
                self.parent.totals[name] += int(integers_of(rows[cm.column], spec.scale)[0].sum())
        self.parent.count += rows.height
        return np.frombuffer(raw, np.uint8).reshape(rows.height, self.parent.source.stride)

    def before(self, parents: pl.DataFrame, order: np.ndarray, last: int
               ) -> tuple[np.ndarray, np.ndarray]:
        """The records of the rows that come before the frame's last parent, and their
        source record numbers; remembers the last parent for the rows after it."""
        rows = self._pull(last)
        numbers = rows[self.record_column].cast(pl.Int64).to_numpy()
        if rows.height:
            self._check(rows, parents, np.searchsorted(order, numbers) - 1)
        last_row = parents.select(pl.col(m).cast(pl.Utf8) for m, _ in self.wb.match).row(-1)
        self.last_parent = dict(zip((m for m, _ in self.wb.match), last_row, strict=True))
        if not rows.height:
            return np.zeros((0, self.parent.source.stride), np.uint8), numbers
        return self._encode(rows), numbers

    def rest(self) -> np.ndarray:
        """The records of the rows after the last parent."""
        rows = self._pull(None)
        if not rows.height:
            return np.zeros((0, self.parent.source.stride), np.uint8)
        self._check(rows, None, np.full(rows.height, -1))
        return self._encode(rows)
