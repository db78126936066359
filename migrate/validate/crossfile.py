"""What one file of a migration must know about the others: the keys converted so far.

Files run in dependency order (migrate.run.plan), so when a tax file is converted every resident key
is already known: a reference is checked per record, before anything is written, and a primary
key seen in an earlier file of the same layout is a duplicate. Record numbers are stored with
the index of their file so both sides of a finding can be named.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from migrate.i18n import t
from migrate.layouts import Schema
from migrate.pii import mask
from migrate.problems import concat_problems, empty_problems, problems_frame
from migrate.validate.keys import KeyTracker

FILE_SHIFT = 40  # record numbers below 2**40 (a trillion records) keep the file index apart


class CrossFile:
    """Key indexes per layout, shared by every file of one migration run."""

    def __init__(self, spill_dir: Path | None = None):
        self.spill_dir = spill_dir
        self.trackers: dict[str, KeyTracker] = {}
        self.rejected: dict[str, KeyTracker] = {}  # keys of rows rejected, per layout
        self.files: list[str] = []
        self.layout_files: dict[str, list[str]] = {}
        self.layouts_done: set[str] = set()

    def add_file(self, label: str, layout: str) -> int:
        """Register a file of the run; returns its index (part of its encoded record numbers)."""
        self.files.append(label)
        self.layout_files.setdefault(layout, []).append(label)
        return len(self.files) - 1

    def tracker(self, schema: Schema) -> KeyTracker:
        if schema.id not in self.trackers:
            self.trackers[schema.id] = KeyTracker(schema.primary_key, spill_dir=self.spill_dir)
        return self.trackers[schema.id]

    def rejected_tracker(self, schema: Schema) -> KeyTracker:
        """Keys of the rows a layout's files rejected: a reference to one of them is named as
        such (`reference_rejected`), not as a plain orphan."""
        if schema.id not in self.rejected:
            self.rejected[schema.id] = KeyTracker(schema.primary_key, spill_dir=self.spill_dir)
        return self.rejected[schema.id]

    def encode(self, file_index: int, records: np.ndarray) -> np.ndarray:
        return (np.int64(file_index) << FILE_SHIFT) | records.astype(np.int64)

    def describe(self, code: int) -> str:
        """'juki.dat record 12' for an encoded record."""
        file_index, record = int(code) >> FILE_SHIFT, int(code) & ((1 << FILE_SHIFT) - 1)
        return t("{file} record {record}", file=self.files[file_index], record=record)

    def close(self) -> None:
        for tracker in (*self.trackers.values(), *self.rejected.values()):
            tracker.close()


def check_references(rows: pl.DataFrame, schema: Schema, cross: CrossFile,
                     record_col: str, offset_col: str, locate: dict[str, tuple[str | None, int]]
                     ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(errors, warnings) for references to layouts already converted in this run.

    A value missing from the other layout rejects the record (`orphan_reference`, or
    `reference_rejected` naming the other file's record when that one was rejected), unless the
    reference's `unless` condition holds (e.g. 住登外); a row that claims the exemption although
    its key does exist there — the same person in both files — is `jutogai_but_resident`, a
    warning or (`unless_found: error`) a reject, naming that record."""
    errors, warnings = [], []
    if rows.is_empty():
        return empty_problems(), empty_problems()
    for spec in schema.columns:
        ref = spec.references
        if ref is None or ref.layout == schema.id or ref.layout not in cross.layouts_done:
            continue
        tracker = cross.trackers.get(ref.layout)
        if tracker is None:
            continue
        key = list(ref.columns)  # the column, and the others of a several-column key
        present = rows.select(pl.all_horizontal(pl.col(key).is_not_null())).to_series() \
            .to_numpy()
        found = np.full(rows.height, -1, np.int64)
        idx = np.flatnonzero(present)
        if len(idx):
            found[idx] = tracker.lookup(rows.select(pl.col(key).gather(idx)))
        exempt = np.zeros(rows.height, bool)
        if ref.unless:
            exempt = rows.select(pl.all_horizontal([
                pl.col(c).cast(pl.Utf8).is_in(list(v)) for c, v in ref.unless.items()])
                .fill_null(False)).to_series().to_numpy()
        field, offset = locate.get(spec.name, (None, 0))
        orphan = present & (found < 0) & ~exempt
        was_rejected = np.full(rows.height, -1, np.int64)
        rejected_keys = cross.rejected.get(ref.layout)
        if orphan.any() and rejected_keys is not None:
            idx = np.flatnonzero(orphan)
            was_rejected[idx] = rejected_keys.lookup(rows.select(pl.col(key).gather(idx)))
        for kind, picked in (("orphan_reference", orphan & (was_rejected < 0)),
                             ("reference_rejected", orphan & (was_rejected >= 0)),
                             ("jutogai_but_resident", present & (found >= 0) & exempt)):
            where = np.flatnonzero(picked)
            if not len(where):
                continue
            values = [mask(str(v), spec.pii)
                      for v in rows[spec.name].gather(where).to_list()]
            if kind == "orphan_reference":
                detail = t("not in {layout} ({files})", layout=ref.layout,
                           files=", ".join(cross.layout_files.get(ref.layout, ())))
            elif kind == "reference_rejected":
                detail = [t("rejected in {layout}: {where}", layout=ref.layout,
                            where=cross.describe(code)) for code in was_rejected[where]]
            else:
                detail = [t("found in {layout}: {where}", layout=ref.layout,
                            where=cross.describe(code)) for code in found[where]]
            frame = problems_frame(rows[record_col].gather(where),
                                   rows[offset_col].gather(where) + offset, field=field,
                                   column=spec.name, reasons=kind, values=values, detail=detail)
            keep = kind == "jutogai_but_resident" and ref.found == "warning"
            (warnings if keep else errors).append(frame)
    return concat_problems(errors), concat_problems(warnings)

