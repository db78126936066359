"""The screen summary of `migrate run`: verdict first, short, no Python reprs, in the user's
language."""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from rich.console import Console

from migrate.reconcile.ledger import Invariant, Ledger
from migrate.report.summary import format_value, print_summary


@dataclass
class Result:
    ledger: Ledger
    run_json: Path = Path("/data/out/run.json")
    outputs: dict[str, Path] = field(default_factory=lambda: {
        "csv": Path("/data/out/juki.csv"), "parquet": Path("/data/out/juki.parquet"),
        "database": Path("/data/out/migrate.db"), "rejects": Path("/data/out/rejects.csv"),
        "warnings": Path("/data/out/warnings.csv"), "report": Path("/data/out/report.html")})
    max_rejects_exceeded: bool = False

    @property
    def exit_code(self) -> int:
        return 0 if self.ledger.ok else 1


def ledger(*, broken: bool = False) -> Ledger:
    result = Ledger(records_by_kind=Counter(header=1, data=100_000, trailer=1),
                    data_read=100_000, accepted=99_960, rejected=40, rows=99_960)
    result.rejected_by_reason.update({f"reason_{i}": 10 - i for i in range(8)})
    result.rejected_by_reason.update({"invalid_date": 12})
    result.warnings_by_reason.update({"leap_day_in_non_leap_year": 3})
    result.check_counts()
    result.check("trailer_count", 100_000, 100_000 if not broken else 99_999)
    for sink in ("csv", "parquet", "database"):
        result.check_sink(sink, 99_960)
    for column in ("src_record", "birth_date"):
        totals = {"non_null": 99_960, "sum": 5_000_000} if column == "src_record" else \
            {"non_null": 99_960, "min": "****-**-**", "max": "****-**-**"}
        result.invariants.append(Invariant(f"db_totals:juki.{column}", True, totals, totals))
    return result


def screen(result: Result, verbose: bool = False) -> list[str]:
    buffer = io.StringIO()
    print_summary(result, Console(file=buffer, width=100, color_system=None), verbose)
    return buffer.getvalue().splitlines()


@pytest.mark.parametrize("lang", ["en_US.UTF-8", "ja_JP.UTF-8"])
def test_verdict_first_short_and_without_reprs(monkeypatch, lang):
    monkeypatch.setenv("LANG", lang)
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    lines = screen(Result(ledger()))
    assert lines[0].startswith("✔")
    assert len(lines) <= 25, "\n".join(lines)
    text = "\n".join(lines)
    assert "{" not in text and "'" not in text and "non_null" not in text
    assert "100,000" in text and "99,960" in text
    if lang.startswith("ja"):
        assert lines[0].startswith("✔ 照合一致："), lines[0]
        assert "（invalid_date）" in text  # the code stays, so that people can search for it
        assert "Records" not in text and "passed" not in text and "other reasons" not in text
    else:
        assert "(invalid_date)" in text


def test_verbose_lists_every_check_in_words():
    lines = screen(Result(ledger()), verbose=True)
    text = "\n".join(lines)
    assert text.count("OK ") == len(ledger().invariants)
    assert "values 99,960, sum 5,000,000" in text
    assert "{" not in text and "'" not in text
    assert "reason_7" in text  # every reason


def test_a_failed_check_is_shown_with_its_figures_and_the_verdict_says_so():
    lines = screen(Result(ledger(broken=True)))
    assert lines[0].startswith("✘")
    failed = [line for line in lines if "FAILED" in line]
    assert failed == ["  FAILED record count in the trailer = data records read: expected "
                      "100,000, found 99,999"]
    assert "The evidence of this run is in /data/out." in " ".join(lines)


def test_format_value():
    assert format_value(1234567) == "1,234,567"
    assert format_value({"non_null": 3, "min": "1950-01-01"}) == "values 3, earliest 1950-01-01"
    assert format_value(["a", 2]) == "a, 2"
    assert format_value(None) == "—"


@dataclass
class PlanResult:
    document: dict
    exit_code: int = 0
    failed: list = field(default_factory=list)
    report: Path = Path("/data/out/report.html")
    run_json: Path = Path("/data/out/run.json")


def test_plan_summary_verdict_first_and_records_against_rows():
    files = [{"name": "juki", "layout": "juki/v1", "status": "reconciled", "reconciled": True,
              "data_records_read": 500, "accepted": 498, "rejected": 2, "rows": 498,
              "records_by_type": {"header": 1, "data": 500, "trailer": 1}},
             {"name": "zeimu", "layout": "zeimu/v1", "status": "reconciled", "reconciled": True,
              "data_records_read": 912, "accepted": 912, "rejected": 0, "rows": 379,
              "records_by_type": {"header": 1, "data": 379, "income": 533, "trailer": 1}}]
    cross = [{"check": "reference", "layout": "zeimu/v1", "column": "atena_no",
              "references": "juki/v1.atena_no", "checked": True, "orphans_rejected": 3}]
    buffer = io.StringIO()
    from migrate.report.summary import print_plan_summary

    print_plan_summary(PlanResult({"files": files, "cross_file": cross}),
                       Console(file=buffer, width=120, color_system=None))
    lines = buffer.getvalue().splitlines()
    assert lines[0].startswith("✔ Reconciled")
    text = "\n".join(lines)
    assert "zeimu/v1: 912 records accepted make 379 rows: its income records are columns" in text
    assert "juki/v1: 498 records accepted" not in text  # rows = records: nothing to explain
    assert "{" not in text and "'" not in text
    assert len(lines) <= 25
