"""The verdict table `migrate verify` prints (rich): one row per check and file, failures first.

It reads plain dicts (check, file, ok, detail), the same rows verify.json holds.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from migrate.i18n import t


def print_verdict(findings: list[dict[str, Any]], ok: bool, console: Console,
                  verbose: bool = False) -> None:
    """Failures always; passed checks too when `verbose` or when nothing failed."""
    table = Table(title=t("Verdict"), header_style="bold", show_lines=False)
    table.add_column(t("check"))
    table.add_column(t("file"))
    table.add_column(t("result"))
    table.add_column(t("detail"))
    shown = sorted(findings, key=lambda f: f["ok"])
    if not verbose and not ok:
        shown = [f for f in shown if not f["ok"]]
    for finding in shown:
        mark = "[green]OK[/green]" if finding["ok"] else "[red]FAILED[/red]"
        table.add_row(escape(finding["check"]), escape(finding["file"]), mark,
                      escape(finding["detail"]))
    console.print(table)
    if ok:
        console.print("[bold green]" + t("The package holds: fixity, counts, schema and "
                                         "cross-file checks pass.") + "[/bold green]")
    else:
        failed = sum(1 for f in findings if not f["ok"])
        console.print("[bold red]" + t("The package does NOT hold: {count} checks failed.",
                                       count=failed) + "[/bold red]")
