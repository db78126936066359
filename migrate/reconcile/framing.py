"""The file's framing, checked in record order: where header, data, trailer and end records may
stand, which records are ignored, and every trailer figure against the block it closes.

A file is one or more groups of records: header records (first, or right after a trailer),
data records, a trailer that closes the group, and end records after the last group. Each
trailer states figures about the data records since the previous trailer (its block): the
run adds those up chunk by chunk, in order, and compares them when it ends. A record out of
place stops the run with its record number (exit 2); a figure that disagrees fails it (exit 1).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from migrate.errors import InputFormatError
from migrate.layouts import Mapping
from migrate.layouts.source import FigureSpec
from migrate.read.fixed import END, HEADER, IGNORE, KIND_NAMES, TRAILER
from migrate.reconcile.ledger import Ledger

LISTED_IGNORED = 100  # record numbers of ignored records listed in run.json
START, DATA_SEEN = "start", "data"


@dataclass
class Block:
    """The data records one trailer speaks for, and what the figures add up to over them."""

    first: int | None = None        # first and last member record of the block
    last: int | None = None
    members: int = 0                # data, child and unknown-type records
    sums: Counter = field(default_factory=Counter)        # figure → sum of its values
    unreadable: Counter = field(default_factory=Counter)  # figure → values not decoded
    trailer: int | None = None      # the trailer record that closes the block
    stated: dict[str, tuple[Any, str | None]] = field(default_factory=dict)

    def take(self, first: int, last: int) -> None:
        self.first = first if self.first is None else self.first
        self.last = last
        self.members += last - first + 1


class FramingCheck:
    """Consumes each chunk's framing records in order; raises InputFormatError for a record
    out of place or a header/trailer field that differs from its `expect`."""

    def __init__(self, mapping: Mapping, path: Path):
        self.mapping = mapping
        self.path = path
        rt = mapping.source.record_types
        self.declared = {role for _, role in rt.code_roles()} if rt else set()
        self.figures: tuple[FigureSpec, ...] = (mapping.trailer.all_figures()
                                                if mapping.trailer else ())
        self.state = START
        self.position = 0  # the last record looked at
        self.blocks = [Block()]
        self.closed = 0  # trailers seen: the block being read is blocks[closed]
        self.by_role: Counter = Counter()
        self.ignored: list[int] = []
        self.ignored_by_code: Counter = Counter()

    # ------------------------------------------------------------------ in record order

    def feed(self, first_record: int, n: int, framing: Any,
             values: dict[str, pl.DataFrame]) -> None:
        """One chunk (records first_record … first_record + n − 1): its framing records
        (migrate.transform.framing.ChunkFraming) and the figures' (record, value) rows."""
        for record, kind, name, shown, expected in framing.unexpected:
            # header and trailer fields describe the file (its type, sender, counts), not a
            # person: shown as they are
            params = {"record": record, "found": shown, "field": name, "expect": expected}
            where = dict(file=self.path, record=record, field_name=name,
                         hint="Check that this is the file the mapping describes (its record "
                              "layout and file type code), or correct expect: in the mapping.")
            if kind == HEADER:
                raise InputFormatError("the header record {record} holds {found} in field "
                                       "{field}, where the mapping expects {expect}",
                                       params, **where)
            raise InputFormatError("the trailer record {record} holds {found} in field "
                                   "{field}, where the mapping expects {expect}",
                                   params, **where)
        # the figure rows go to the blocks they belong to, by the trailers before them
        trailers_before = [b.trailer for b in self.blocks if b.trailer is not None]
        trailers_before += [r for r, k in zip(framing.records, framing.kinds, strict=True)
                            if k == TRAILER]
        bounds = np.array(trailers_before, dtype=np.int64)
        for name, frame in values.items():
            self._add_values(name, frame, bounds)
        for record, kind, code in zip(framing.records, framing.kinds, framing.codes,
                                      strict=True):
            self._members_until(record - 1)
            self._framing_record(record, kind, code, framing.trailers.get(record))
            self.position = record
        self._members_until(first_record + n - 1)

    def _add_values(self, name: str, frame: pl.DataFrame, bounds: np.ndarray) -> None:
        if frame.is_empty():
            return
        records = frame["record"].to_numpy()
        block = np.searchsorted(bounds, records, side="left")
        table = pl.DataFrame({"block": block, "value": frame["value"].cast(pl.Int128)})
        per_block = table.group_by("block").agg(pl.col("value").sum().alias("sum"),
                                                pl.col("value").null_count().alias("null"))
        for index, total, nulls in per_block.iter_rows():
            self._block(index).sums[name] += int(total or 0)
            self._block(index).unreadable[name] += int(nulls)

    def _block(self, index: int) -> Block:
        while len(self.blocks) <= index:
            self.blocks.append(Block())
        return self.blocks[index]

    def _members_until(self, last: int) -> None:
        """Records position+1 … last are data, child or unknown-type records."""
        if last <= self.position:
            return
        first = self.position + 1
        if self.state == "end":
            raise InputFormatError("record {record} is a data record after the end record",
                                   {"record": first, "role": "data"}, **self._where(first))
        if self.state == START and "header" in self.declared:
            raise InputFormatError("record {record} is a data record before the header record",
                                   {"record": first, "role": "data"}, **self._where(first))
        self._block(self.closed).take(first, last)
        self.state = DATA_SEEN
        self.position = last

    def _framing_record(self, record: int, kind: int, code: str,
                        stated: dict[str, tuple[Any, str | None]] | None) -> None:
        role = KIND_NAMES[kind]
        self.by_role[role] += 1
        if kind == IGNORE:
            if len(self.ignored) < LISTED_IGNORED:
                self.ignored.append(record)
            self.ignored_by_code[code] += 1
            return
        params = {"record": record, "role": role, "code": code}
        if self.state == "end" and kind != END:
            raise InputFormatError("record {record} (record type '{code}') comes after the end "
                                   "record", params, **self._where(record))
        if kind == HEADER and self.state == DATA_SEEN:
            raise InputFormatError("record {record} is a header record (record type '{code}') "
                                   "after data records: a header comes first, or right after "
                                   "a trailer", params, **self._where(record))
        if kind == TRAILER:
            block = self._block(self.closed)
            block.trailer, block.stated = record, stated or {}
            self.closed += 1
        self.state = {HEADER: "header", TRAILER: "trailer", END: "end"}[kind]

    def _where(self, record: int) -> dict[str, Any]:
        """Location and hint of a record out of place."""
        order = " → ".join(r for r in ("header", "data", "trailer", "end")
                           if r in self.declared or r == "data")
        return dict(file=self.path, record=record, hint_params={"order": order},
                    hint="The mapping declares the order {order}. The file may be two "
                         "exports put together, cut short, or not the file this mapping "
                         "describes.")

    # ------------------------------------------------------------------ at the end

    def finish(self, ledger: Ledger) -> list[dict[str, Any]]:
        """Check every figure of every trailer, and that the trailer and end records are there;
        returns the figures as run.json lists them."""
        closed = self.blocks[:self.closed]
        open_block = self._block(self.closed)
        if self.mapping.trailer is not None:
            if not closed:
                ledger.check("trailer_present", True, False, "the file has no trailer record")
            elif open_block.members:
                ledger.check("trailer_present", True, False,
                             f"records {open_block.first}–{open_block.last} come after the "
                             f"last trailer record: they have no trailer")
        if "end" in self.declared:
            ledger.check("end_present", True, self.state == "end",
                         "the file ends with an end record")
        figures = []
        for number, block in enumerate(closed, start=1):
            for figure in self.figures:
                figures.append(self._check(ledger, figure, block, number, len(closed)))
        return figures

    def _check(self, ledger: Ledger, figure: FigureSpec, block: Block, number: int,
               blocks: int) -> dict[str, Any]:
        value, error = block.stated.get(figure.name, (None, None))
        if figure.kind == "count" and figure.of == "data" and not figure.where:
            actual = block.members
        else:
            actual = block.sums.get(figure.name, 0)
        unreadable = block.unreadable.get(figure.name, 0)
        expected = None if value is None else int(value)
        name = figure.legacy or f"trailer_figure:{figure.name}"
        if blocks > 1:
            name = f"{name}@{number}"
        records = (f"{block.first}–{block.last}" if block.first is not None else "")
        reason = None  # why the figure is not (fully) checked, in run.json's own words
        if error is not None:
            reason = f"the trailer's value cannot be read ({error})"
        elif value is None:
            reason = "the trailer field is empty"
        elif unreadable:
            reason = f"{unreadable} record(s) have a value that cannot be read"
        detail = (f"trailer record {block.trailer}: {figure.name} = {_describe(figure)} "
                  f"over records {records or '(none)'}")
        invariant = ledger.check(name, expected, actual, detail)
        if expected is None:
            invariant.ok = False
        return {"name": figure.name, "figure": figure.kind, "of": figure.of,
                "where": {k: list(v) for k, v in figure.where}, "block": number,
                "trailer_record": block.trailer, "records": records,
                "data_records": block.members, "expected": expected, "actual": actual,
                "difference": None if expected is None else actual - expected,
                "ok": invariant.ok, "checked": expected is not None, "reason": reason,
                "trailer_error": error, "unreadable": unreadable}

    def as_dict(self) -> dict[str, Any]:
        """The framing part of run.json: records by role, the ignored records, the blocks."""
        return {"records_by_role": dict(self.by_role),
                "blocks": self.closed,
                "ignored": {"count": self.by_role.get("ignore", 0),
                            "by_code": dict(self.ignored_by_code),
                            "records": self.ignored}}

    def first_trailer(self) -> dict[str, Any]:
        """The first trailer's values (run.json's `trailer`, as before several trailers)."""
        for block in self.blocks:
            if block.trailer is not None:
                return {name: (None if error else value)
                        for name, (value, error) in block.stated.items()}
        return {}


def _describe(figure: FigureSpec) -> str:
    what = ("count of data records" if figure.kind == "count" and figure.of == "data"
            else f"count of {figure.of} records" if figure.kind == "count"
            else f"sum of {figure.of}")
    if figure.where:
        what += " where " + ", ".join(f"{k} in {'/'.join(v)}" for k, v in figure.where)
    return what
