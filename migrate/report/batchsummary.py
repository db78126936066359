"""The summary `migrate batch` prints (rich): one line per run, then the batch's totals; the
full facts are in OUT/batch.json and each run's own run.json."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from migrate.i18n import t


def print_batch_summary(document: dict[str, Any], batch_json: Path, console: Console
                        ) -> None:
    """The verdict, one row per run (records, rows, seconds, outcome), the totals."""
    runs, totals = document["runs"], document["totals"]
    if document["exit_code"] == 0:
        console.print("[bold green]✔ " + escape(t(
            "Every run of the batch reconciled ({runs} runs).", runs=totals["runs"]))
            + "[/bold green]")
    else:
        console.print("[bold red]✘ " + escape(t(
            "Not every run of the batch reconciled: {failed} failed, {errors} could not run.",
            failed=totals["failed"], errors=totals["errors"])) + "[/bold red]")
    table = Table(title=t("Batch {title}", title=document["batch"]), header_style="bold",
                  title_justify="left")
    for column in (t("run"), t("files"), t("read"), t("accepted"), t("rejected"), t("rows"),
                   t("seconds"), t("status")):
        table.add_column(column, justify="left" if column == t("run") else "right")
    status = {"reconciled": "[green]OK[/green]", "failed": "[red]" + escape(t("FAILED"))
              + "[/red]", "error": "[red]" + escape(t("error")) + "[/red]"}
    for run in runs:
        table.add_row(escape(run["name"]), f"{run.get('files') or 0:,}",
                      f"{run['records_read']:,}", f"{run['accepted']:,}",
                      f"{run['rejected']:,}", f"{run['rows']:,}", f"{run['seconds']:,.1f}",
                      status.get(run["status"], escape(str(run["status"]))))
    table.add_row("[bold]" + escape(t("total")) + "[/bold]", f"{totals['files']:,}",
                  f"{totals['records_read']:,}", f"{totals['accepted']:,}",
                  f"{totals['rejected']:,}", f"{totals['rows']:,}",
                  f"{document['seconds']:,.1f}", "")
    console.print(table)
    for run in runs:
        if run["status"] == "error":
            console.print(t("{run}: {error}", run=run["name"], error=run["error"]),
                          highlight=False, markup=False)
    console.print(t("Batch report: {path}", path=batch_json), highlight=False,
                  markup=False)
