"""Group checks (e.g. each household has exactly one head), decided before any row is written.

Whether a household has a head is only known once the whole file has been seen, but rows are
streamed out chunk by chunk. So a first pass reads only the columns the checks need (grouping
and counting columns: a few bytes per record, decoded with the same mapper), keeps one small
row per group, and names the failing groups; the main pass then rejects (or warns about) every
record of a failing group as it goes, with the records of the other members in the detail.

Memory grows with the number of groups (a household number and two counters each), like the
primary-key index; the per-record data is never kept.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

import polars as pl

from migrate.i18n import t
from migrate.layouts import GroupCheckSpec, Mapping
from migrate.mapping import RECORD_COL, ChunkMapper
from migrate.problems import concat_problems, empty_problems, problems_frame

MERGE_EVERY = 16  # chunks between re-aggregations of the per-group partial counts
SHOWN_RECORDS = 5  # records of the matching members named in the detail


@dataclass
class FailingGroups:
    """The groups of one check that broke it, with a human-readable detail per group."""

    check: GroupCheckSpec
    groups: pl.DataFrame  # group_by columns + "__detail"


def _needed_columns(mapping: Mapping) -> set[str]:
    return {c for check in mapping.target.group_checks
            for c in (*check.group_by, *check.count_where, *check.among)}


class GroupPass:
    """The per-chunk half of the first pass: one small partial table per check and chunk.
    It runs wherever the chunk work runs (main process or a pool worker)."""

    def __init__(self, mapping: Mapping, header: dict[str, Any]):
        self.checks = mapping.target.group_checks
        needed = _needed_columns(mapping)
        light = replace(mapping, columns=tuple(cm for cm in mapping.columns
                                               if cm.column in needed))
        self.mapper = ChunkMapper(light, header)

    def partials(self, chunk: Any) -> list[pl.DataFrame]:
        rows = self.mapper.map(chunk).rows
        return [_partial(rows, check) for check in self.checks]


def find_failing_groups(mapping: Mapping, header: dict[str, Any],
                        chunks: Iterable[Any]) -> list[FailingGroups]:
    """First pass over the file, in this process: the failing groups of every group check."""
    if not mapping.target.group_checks:
        return []
    work = GroupPass(mapping, header)
    return merge_partials(mapping, (work.partials(chunk) for chunk in chunks))


def merge_partials(mapping: Mapping, per_chunk: Iterable[list[pl.DataFrame]]
                   ) -> list[FailingGroups]:
    """Combine the chunks' partial tables (in any order) and name the failing groups."""
    checks = mapping.target.group_checks
    partials: list[list[pl.DataFrame]] = [[] for _ in checks]
    for parts in per_chunk:
        for i, check in enumerate(checks):
            partials[i].append(parts[i])
            if len(partials[i]) >= MERGE_EVERY:
                partials[i] = [_merge(partials[i], check)]
    failing = []
    for check, parts in zip(checks, partials, strict=True):
        merged = _merge(parts, check)
        bad = merged.filter((pl.col("__hits") != check.exactly)
                            & pl.all_horizontal([pl.col(c).is_not_null()
                                                 for c in check.group_by]))
        failing.append(FailingGroups(check, _details(bad, check)))
    return failing


def _matches(condition: dict[str, tuple[str, ...]]) -> pl.Expr:
    return pl.all_horizontal([pl.lit(True), *(pl.col(c).cast(pl.Utf8).is_in(list(v))
                                             for c, v in condition.items())]).fill_null(False)


def _hit(check: GroupCheckSpec) -> pl.Expr:
    return _matches(check.count_where)


def _partial(rows: pl.DataFrame, check: GroupCheckSpec) -> pl.DataFrame:
    keys = list(check.group_by)
    return rows.filter(_matches(check.among)).select(*keys, RECORD_COL, _hit(check).alias("__hit")).group_by(keys).agg(
        pl.col("__hit").sum().cast(pl.Int64).alias("__hits"),
        pl.len().cast(pl.Int64).alias("__members"),
        pl.col(RECORD_COL).min().alias("__first"),
        pl.col(RECORD_COL).filter(pl.col("__hit")).head(SHOWN_RECORDS).alias("__matching"))


def _merge(parts: list[pl.DataFrame], check: GroupCheckSpec) -> pl.DataFrame:
    keys = list(check.group_by)
    if not parts:
        return pl.DataFrame(schema={**{k: pl.Utf8 for k in keys}, "__hits": pl.Int64,
                                    "__members": pl.Int64, "__first": pl.Int64,
                                    "__matching": pl.List(pl.Int64)})
    return pl.concat(parts).group_by(keys).agg(
        pl.col("__hits").sum(), pl.col("__members").sum(), pl.col("__first").min(),
        pl.col("__matching").list.explode(keep_nulls=False, empty_as_null=False).sort()
        .head(SHOWN_RECORDS))


def _details(bad: pl.DataFrame, check: GroupCheckSpec) -> pl.DataFrame:
    details = []
    for hits, members, first, matching in bad.select(
            "__hits", "__members", "__first", "__matching").iter_rows():
        shown = ", ".join(str(r) for r in matching)
        details.append(t("{hits} of {members} records match (expected {exactly}); first "
                         "record {first}; matching records: {records}", hits=hits,
                         members=members, exactly=check.exactly, first=first,
                         records=shown or "-"))
    return bad.select(*check.group_by).with_columns(pl.Series("__detail", details,
                                                             dtype=pl.Utf8))


def group_problems(rows: pl.DataFrame, failing: list[FailingGroups], offset_col: str
                   ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(errors, warnings) for the rows of a chunk that belong to a failing group."""
    errors, warnings = [], []
    for found in failing:
        if found.groups.is_empty() or rows.is_empty():
            continue
        keys = list(found.check.group_by)
        hit = rows.filter(_matches(found.check.among)).select(
            *keys, RECORD_COL, offset_col).join(found.groups, on=keys, how="inner",
                                                             nulls_equal=False)
        if hit.is_empty():
            continue
        frame = problems_frame(hit[RECORD_COL], hit[offset_col], field=None,
                               column=",".join(keys), reasons=found.check.name,
                               values=hit[keys[0]].cast(pl.Utf8), detail=hit["__detail"])
        (errors if found.check.severity == "error" else warnings).append(frame)
    return (concat_problems(errors) if errors else empty_problems(),
            concat_problems(warnings) if warnings else empty_problems())
