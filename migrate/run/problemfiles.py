"""rejects.csv and warnings.csv of a run: every problem with its localized message, and the
same rows as a workbook beside each (rejects.xlsx, warnings.xlsx)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from migrate.i18n import language
from migrate.layouts import Mapping
from migrate.reconcile.reasons import reason_message
from migrate.sinks.csv import CsvSink
from migrate.sinks.excel import write_problems_xlsx

PROBLEM_COLUMNS = ["record", "offset", "field", "column", "reason", "message", "value", "detail"]


class ProblemWriter(CsvSink):
    """rejects.csv / warnings.csv: a CSV output (staged, renamed on commit) whose rows get a
    localized message per reason; UTF-8 with a BOM, so that Excel opens it; on commit the same
    rows as a workbook beside it (rejects.xlsx, warnings.xlsx: migrate.sinks.excel)."""

    def __init__(self, path: Path, messages: dict[str, str], sheet: str):
        super().__init__(path, PROBLEM_COLUMNS, bom=True)
        self.messages = messages
        self.lang = language()
        self.sheet = sheet

    def commit(self) -> None:
        super().commit()
        write_problems_xlsx(self.path, self.path.with_suffix(".xlsx"), self.sheet)

    def write(self, problems: pl.DataFrame) -> None:
        if problems.is_empty():
            return
        reasons = problems["reason"].unique().to_list()
        lookup = {r: self.messages.get(r) or reason_message(r, self.lang) for r in reasons}
        super().write(problems.with_columns(
            pl.col("reason").replace_strict(lookup, return_dtype=pl.Utf8).alias("message")))


def rule_messages(mapping: Mapping) -> dict[str, str]:
    """The localized names of the schema's rules and group checks (reasons of their own)."""
    lang = language()
    named = [*mapping.target.rules, *mapping.target.group_checks]
    return {r.name: (r.ja if lang == "ja" else r.en) or r.name for r in named}
