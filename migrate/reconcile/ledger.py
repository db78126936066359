"""The reconciliation ledger: every record is written or rejected, and the figures must agree.

Stages report counts; the ledger only adds them up and checks the invariants, so reconciliation
is a sum, never a guess. Each invariant is recorded with its figures whether it holds or not.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Invariant:
    """One reconciliation check and the figures behind it."""

    name: str
    ok: bool
    expected: Any
    actual: Any
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "expected": self.expected,
                "actual": self.actual, "detail": self.detail}


@dataclass
class Ledger:
    """Running counts of a run, merged chunk by chunk."""

    records_by_kind: Counter = field(default_factory=Counter)
    data_read: int = 0
    accepted: int = 0
    rejected: int = 0
    rows: int = 0  # output rows: accepted data records (their child records are in the row)
    problems_by_reason: Counter = field(default_factory=Counter)
    rejected_by_reason: Counter = field(default_factory=Counter)
    warnings_by_reason: Counter = field(default_factory=Counter)
    source_totals: Counter = field(default_factory=Counter)
    rejected_totals: Counter = field(default_factory=Counter)
    invariants: list[Invariant] = field(default_factory=list)

    def add(self, *, kinds: Counter, data_read: int, accepted: int, rejected: int, rows: int,
            problem_reasons: Counter, record_reasons: Counter, warning_reasons: Counter,
            source_totals: dict[str, int], rejected_totals: dict[str, int]) -> None:
        """Merge one chunk's counts."""
        self.records_by_kind.update(kinds)
        self.data_read += data_read
        self.accepted += accepted
        self.rejected += rejected
        self.rows += rows
        self.problems_by_reason.update(problem_reasons)
        self.rejected_by_reason.update(record_reasons)
        self.warnings_by_reason.update(warning_reasons)
        self.source_totals.update(source_totals)
        self.rejected_totals.update(rejected_totals)

    def check(self, name: str, expected: Any, actual: Any, detail: str = "") -> Invariant:
        invariant = Invariant(name, expected == actual, expected, actual, detail)
        self.invariants.append(invariant)
        return invariant

    def check_counts(self) -> None:
        self.check("read_equals_accepted_plus_rejected", self.data_read,
                   self.accepted + self.rejected,
                   "data records read = records accepted + records rejected")

    def check_output_totals(self, output_totals: dict[str, int]) -> None:
        for name, written in output_totals.items():
            self.check(f"control_total_output:{name}", self.source_totals.get(name, 0),
                       written + self.rejected_totals.get(name, 0),
                       f"sum of {name} in the output + in rejected records = sum read")

    def check_sink(self, sink: str, count: int) -> None:
        self.check(f"sink_rows:{sink}", self.rows, count,
                   f"rows re-counted in {sink} = records accepted")

    @property
    def ok(self) -> bool:
        return all(inv.ok for inv in self.invariants)

    def as_dict(self) -> dict[str, Any]:
        return {
            "records_by_type": dict(sorted(self.records_by_kind.items())),
            "data_records_read": self.data_read,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "rows": self.rows,
            "rejected_records_by_reason": dict(self.rejected_by_reason.most_common()),
            "problems_by_reason": dict(self.problems_by_reason.most_common()),
            "warnings_by_reason": dict(self.warnings_by_reason.most_common()),
            "control_totals": {"source": dict(self.source_totals),
                               "rejected": dict(self.rejected_totals)},
            "invariants": [inv.as_dict() for inv in self.invariants],
            "reconciled": self.ok,
        }
