"""The short summary table `migrate run` prints (rich); the full facts are in run.json."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from rich.console import Console
from rich.table import Table

from migrate.i18n import t
from migrate.reconcile.ledger import Ledger
from migrate.reconcile.reasons import reason_message


class RunResult(Protocol):
    """What the summary reads of a run's result (migrate.run.options.RunResult)."""

    ledger: Ledger
    run_json: Path
    outputs: dict[str, Path]
    max_rejects_exceeded: bool

    @property
    def exit_code(self) -> int: ...


def print_summary(result: RunResult, console: Console) -> None:
    ledger = result.ledger
    table = Table(title=t("Reconciliation"), show_header=True, header_style="bold")
    table.add_column(t("what"))
    table.add_column(t("records"), justify="right")
    labels = {"header": t("header records"), "data": t("data records"),
              "trailer": t("trailer records"), "unknown": t("records of an unknown type")}
    for kind, count in sorted(ledger.records_by_kind.items()):
        table.add_row(labels.get(kind, kind), f"{count:,}")
    table.add_row(t("data records read"), f"{ledger.data_read:,}")
    table.add_row(t("accepted (written)"), f"{ledger.accepted:,}", style="green")
    table.add_row(t("rejected"), f"{ledger.rejected:,}",
                  style="yellow" if ledger.rejected else None)
    console.print(table)
    if ledger.rejected_by_reason:
        reasons = Table(title=t("Rejected records by first reason"), header_style="bold")
        reasons.add_column(t("reason"))
        reasons.add_column(t("records"), justify="right")
        reasons.add_column(t("meaning"))
        for reason, count in ledger.rejected_by_reason.most_common():
            reasons.add_row(reason, f"{count:,}", reason_message(reason).split(" — ")[0])
        console.print(reasons)
    if ledger.warnings_by_reason:
        console.print(t("Warnings (values kept): {items}", items=", ".join(
            f"{r} {c:,}" for r, c in ledger.warnings_by_reason.most_common())))
    for inv in ledger.invariants:
        mark = "[green]OK[/green]" if inv.ok else "[red]FAILED[/red]"
        console.print(f"  {mark} {inv.name}: {t('expected')} {inv.expected}, "
                      f"{t('actual')} {inv.actual}")
    if result.max_rejects_exceeded:
        console.print("[red]" + t("More records were rejected than --max-rejects allows.")
                      + "[/red]")
    for name, path in result.outputs.items():
        console.print(f"  {name}: {path}")
    console.print(f"  run.json: {result.run_json}")
    if result.exit_code == 0:
        console.print("[bold green]" + t("Reconciled: every record is either written or "
                                         "listed in rejects.csv.") + "[/bold green]")
    else:
        console.print("[bold red]" + t("NOT reconciled: see the FAILED lines above and "
                                       "run.json.") + "[/bold red]")
        console.print(t("Nothing was published: the output folder and the database are as "
                        "they were. The evidence of this run is in {folder}.",
                        folder=result.run_json.parent), highlight=False)


def print_plan_summary(result: Any, console: Console) -> None:
    """One line per file of a migration plan, the cross-file checks, and where to look."""
    document = result.document
    table = Table(title=t("Migration"), header_style="bold")
    for column in (t("layout"), t("read"), t("accepted"), t("rejected"), t("rows"),
                   t("status")):
        table.add_column(column, justify="right" if column != t("layout") else "left")
    for f in document["files"]:
        label = f["layout"] if "/" not in f["name"] else f"{f['layout']} ({f['name']})"
        if f["status"] == "error":
            table.add_row(label, "", "", "", "", f"[red]{t('error')}[/red]")
            continue
        status = "[green]OK[/green]" if f["reconciled"] else "[red]FAILED[/red]"
        table.add_row(label, f"{f['data_records_read']:,}", f"{f['accepted']:,}",
                      f"{f['rejected']:,}", f"{f['rows']:,}", status)
    console.print(table)
    for check in document["cross_file"]:
        if check["check"] == "reference":
            why = {"file not converted": t("not checked (this file was not converted)"),
                   "referenced file not converted": t("not checked (the referenced file was "
                                                      "not converted)")}
            figure = (f"{check.get('orphans_rejected', 0):,}" if check["checked"]
                      else why.get(check.get("why", ""),
                                   t("not checked (layout not in this run)")))
            console.print(f"  {check['layout']}.{check['column']} → {check['references']}: "
                          f"{figure}", highlight=False)
        elif check["check"] == "group":
            console.print(f"  {check['layout']} {check['name']}: {check['records']:,}",
                          highlight=False)
    from migrate.errors import format_error

    for _item, error in result.failed:
        console.print(f"[bold red]{t('error')}:[/bold red] {format_error(error)}",
                      highlight=False, soft_wrap=True)
    console.print(f"  report: {result.report}")
    console.print(f"  run.json: {result.run_json}")
    if result.exit_code == 0:
        console.print("[bold green]" + t("Reconciled: every record of every file is either "
                                         "written or listed in its rejects.csv.")
                      + "[/bold green]")
    else:
        console.print("[bold red]" + t("NOT reconciled: see the FAILED lines above and "
                                       "run.json.") + "[/bold red]")
        console.print(t("Nothing was published: the output folder and the database are as "
                        "they were. The evidence of this run is in {folder}.",
                        folder=result.run_json.parent), highlight=False)
