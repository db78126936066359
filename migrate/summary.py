"""The short summary table `migrate run` prints (rich); the full facts are in run.json."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from migrate.i18n import t
from migrate.pipeline import RunResult
from migrate.reasons import reason_message


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
