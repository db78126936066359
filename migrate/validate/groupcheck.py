"""Group checks (e.g. each household has exactly one head), decided before any row is written.

Whether a household has a head is only known once the whole file has been seen, but rows are
streamed out chunk by chunk. So a first pass reads only the columns the checks need and keeps,
in the run's spilling key index (migrate.validate.keys: memory bounded, the rest on disk), the group of
every record that matches the check's condition; a group that matches twice is remembered with
both records (those are rare). The main pass then looks each record's group up as it goes:
with `exactly: 1`, a group found twice or not at all fails; with `exactly: 0`, a group found at
all fails. Every record of a failing group is rejected (or warned about), with the matching
records named in the detail.

Memory does not grow with the number of groups, only with the number of failing ones.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import polars as pl

from migrate.i18n import t
from migrate.layouts import GroupCheckSpec, Mapping
from migrate.problems import concat_problems, empty_problems, problems_frame
from migrate.transform.lookups import candidates, lookup_columns, summarize, table_path
from migrate.transform.mapper import RECORD_COL, ChunkMapper
from migrate.validate.keys import KeyTracker

SHOWN_RECORDS = 5  # matching records named in the detail of a group that matches too often


@dataclass
class FailingGroups:
    """What the first pass learned for one check: the groups that have a matching record (the
    first one's record number) and the groups that have more than one."""

    check: GroupCheckSpec
    matching: KeyTracker
    repeated: dict[tuple[Any, ...], list[int]] = field(default_factory=dict)
    _repeated_frame: pl.DataFrame | None = None

    def repeated_frame(self, schema: dict[str, pl.DataType]) -> pl.DataFrame:
        """The groups that match more than once, with their detail, as a table to join on."""
        if self._repeated_frame is None:
            keys = list(self.check.group_by)
            columns = list(zip(*self.repeated, strict=True)) if self.repeated else \
                [[] for _ in keys]
            self._repeated_frame = pl.DataFrame(
                {k: pl.Series(k, list(v), dtype=schema[k]) for k, v in zip(keys, columns,
                                                                           strict=True)}
            ).with_columns(pl.Series("__detail", [_too_many(r, self.check)
                                                  for r in self.repeated.values()],
                                     dtype=pl.Utf8))
        return self._repeated_frame

    def close(self) -> None:
        self.matching.close()


def _needed_columns(mapping: Mapping) -> set[str]:
    return {c for check in mapping.target.group_checks
            for c in (*check.group_by, *check.count_where, *check.among)}


def _matches(condition: dict[str, tuple[str, ...]]) -> pl.Expr:
    return pl.all_horizontal([pl.lit(True), *(pl.col(c).cast(pl.Utf8).is_in(list(v))
                                             for c, v in condition.items())]).fill_null(False)


def _member(check: GroupCheckSpec) -> pl.Expr:
    """A record the check looks at: among its population, with a group to belong to."""
    return _matches(check.among) & pl.all_horizontal(
        [pl.col(c).is_not_null() for c in check.group_by])


class GroupPass:
    """The per-chunk half of the first pass: per check, the group and record of each record
    that matches. It runs wherever the chunk work runs (main process or a pool worker)."""

    def __init__(self, mapping: Mapping, header: dict[str, Any]):
        self.checks = mapping.target.group_checks
        needed = _needed_columns(mapping)
        # only the columns the checks read (no control totals: the main pass counts those)
        light = replace(mapping, columns=tuple(cm for cm in mapping.columns
                                               if cm.column in needed and cm.kind != "lookup"),
                        trailer=None)
        self.mapper = ChunkMapper(light, header)
        # the same pass collects the records that hold the values of lookup columns
        self.lookups = lookup_columns(mapping)
        self.lookup_fields = [name for cm in self.lookups for name in cm.reads]

    def partials(self, chunk: Any) -> list[pl.DataFrame]:
        """Per check, the matching records; then per lookup column, its candidate records."""
        found = []
        if self.checks:
            rows = self.mapper.map(chunk).rows
            found = [rows.filter(_member(check) & _matches(check.count_where))
                     .select(*check.group_by, RECORD_COL) for check in self.checks]
        if self.lookups:
            decoded, records = self.mapper.decode_fields(chunk, self.lookup_fields)
            found += [candidates(cm, decoded, records) for cm in self.lookups]
        return found


def find_failing_groups(mapping: Mapping, header: dict[str, Any], chunks: Iterable[Any],
                        spill_dir: Path | None = None, lookup_dir: Path | None = None
                        ) -> list[FailingGroups]:
    """First pass over the file, in this process."""
    if not (mapping.target.group_checks or lookup_columns(mapping)):
        return []
    work = GroupPass(mapping, header)
    return merge_partials(mapping, (work.partials(chunk) for chunk in chunks), spill_dir,
                          lookup_dir)


def merge_partials(mapping: Mapping, per_chunk: Iterable[list[pl.DataFrame]],
                   spill_dir: Path | None = None, lookup_dir: Path | None = None
                   ) -> list[FailingGroups]:
    """Feed the chunks' matching records, in input order, into one key index per check; the
    lookup columns' candidates become their tables in `lookup_dir`."""
    found = [FailingGroups(check, KeyTracker(check.group_by, spill_dir=spill_dir))
             for check in mapping.target.group_checks]
    lookups = lookup_columns(mapping)
    collected: list[list[pl.DataFrame]] = [[] for _ in lookups]
    try:
        for parts in per_chunk:
            for state, frame in zip(found, parts[:len(found)], strict=True):
                _add(state, frame)
            for frames, frame in zip(collected, parts[len(found):], strict=True):
                frames.append(frame)
        for cm, frames in zip(lookups, collected, strict=True):
            assert lookup_dir is not None, "a mapping with lookups needs a lookup folder"
            summarize(cm, frames, table_path(lookup_dir, cm))
    except BaseException:
        for state in found:
            state.close()
        raise
    return found


def _add(state: FailingGroups, frame: pl.DataFrame) -> None:
    if frame.is_empty():
        return
    records = frame[RECORD_COL].to_numpy()
    again, earlier = state.matching.duplicates(frame, records)
    if not len(again):
        return
    keys = frame.select(state.check.group_by)[again].rows()
    for key, first, record in zip(keys, earlier.tolist(), records[again].tolist(), strict=True):
        state.repeated.setdefault(key, [first]).append(record)


def group_problems(rows: pl.DataFrame, failing: list[FailingGroups], offset_col: str
                   ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(errors, warnings) for the rows of a chunk whose group breaks a check."""
    errors, warnings = [], []
    for found in failing:
        check = found.check
        keys = list(check.group_by)
        members = rows.filter(_member(check))
        if members.is_empty():
            continue
        first = found.matching.lookup(members.select(keys))
        repeated = found.repeated_frame(dict(members.select(keys).schema))
        members = members.with_columns(pl.Series("__first", first)).join(
            repeated, on=keys, how="left", maintain_order="left")
        if check.exactly == 1:
            missing = t("no record of the group matches (expected {exactly})",
                        exactly=check.exactly)
            detail = pl.when(pl.col("__first") < 0).then(pl.lit(missing)) \
                .otherwise(pl.col("__detail"))
        else:  # exactly 0: any matching record breaks it
            one = t("{hits} records of the group match (expected {exactly}): records {records}",
                    hits=1, exactly=0, records="")
            detail = pl.when(pl.col("__first") >= 0).then(pl.coalesce(
                pl.col("__detail"), pl.lit(one) + pl.col("__first").cast(pl.Utf8)))
        hit = members.with_columns(detail.alias("__why")).filter(pl.col("__why").is_not_null())
        if hit.is_empty():
            continue
        frame = problems_frame(hit[RECORD_COL], hit[offset_col], field=None,
                               column=",".join(keys), reasons=check.name,
                               values=hit[keys[0]].cast(pl.Utf8), detail=hit["__why"])
        (errors if check.severity == "error" else warnings).append(frame)
    return (concat_problems(errors) if errors else empty_problems(),
            concat_problems(warnings) if warnings else empty_problems())


def _too_many(records: list[int], check: GroupCheckSpec) -> str:
    shown = sorted(records)[:SHOWN_RECORDS]
    more = len(records) - len(shown)
    listing = ", ".join(str(r) for r in shown) + (f" (+{more})" if more else "")
    return t("{hits} records of the group match (expected {exactly}): records {records}",
             hits=len(records), exactly=check.exactly, records=listing)
