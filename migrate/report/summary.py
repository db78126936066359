"""The short summary table `migrate run` prints (rich); the full facts are in run.json."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from migrate.i18n import t
from migrate.reconcile.ledger import Ledger
from migrate.reconcile.reasons import fix_side_label, reason_message
from migrate.report.html import figure_note


class RunResult(Protocol):
    """What the summary reads of a run's result (migrate.run.options.RunResult)."""

    ledger: Ledger
    run_json: Path
    outputs: dict[str, Path]
    max_rejects_exceeded: bool

    @property
    def exit_code(self) -> int: ...


TOP_REASONS = 5  # reject reasons shown by default; -v shows all


def format_value(value: Any) -> str:
    """A figure for people: numbers with separators, lists joined, column totals in words —
    never a Python repr."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return t("yes") if value else t("no")
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() else f"{value:,}"
    if isinstance(value, dict):
        labels = {"non_null": t("values"), "sum": t("sum"), "min": t("earliest"),
                  "max": t("latest")}
        return t(", ").join(f"{labels.get(str(k), str(k))} {format_value(v)}"
                            for k, v in value.items())
    if isinstance(value, list | tuple | set):
        return t(", ").join(format_value(v) for v in value)
    return str(value)


def check_label(name: str) -> str:
    """What a reconciliation check compares, in the user's language (the check's id is kept
    in run.json and the report)."""
    kind, _, subject = name.partition(":")
    labels = {
        "read_equals_accepted_plus_rejected": t("records read = accepted + rejected"),
        "trailer_present": t("the file has a trailer record"),
        "trailer_count": t("record count in the trailer = data records read"),
        "control_total_source": t("control total of {column} in the trailer = sum over the "
                                  "records read", column=subject),
        "control_total_output": t("sum of {column} written + rejected = sum read",
                                  column=subject),
        "end_present": t("the file ends with an end record"),
        "trailer_figure": t("trailer figure {figure} = what its records add up to",
                            figure=subject),
        "sink_rows": t("rows in {output} = records accepted", output=output_label(subject)),
        "db_table": t("table {table} is in the database", table=subject),
        "db_rows": t("rows in the database table {table} = records accepted", table=subject),
        "parquet_rows": t("rows in the Parquet file = records accepted"),
        "db_totals": t("column {column}: database = Parquet (count, sum, earliest and latest)",
                       column=subject),
        "db_row_hash": t("every row of {table}: database = Parquet (row hash)", table=subject),
        "db_load_totals": t("column {column}: database = rows sent (count, sum, earliest and "
                            "latest)", column=subject),
        "db_load_hash": t("every row of {table}: database = rows sent (row hash)",
                          table=subject),
    }
    return labels.get(kind, name)


def output_label(name: str) -> str:
    return {"csv": t("CSV"), "parquet": t("Parquet"), "database": t("database"),
            "rejects": t("rejected records"), "warnings": t("warnings"),
            "rejects_xlsx": t("rejects (Excel)"), "warnings_xlsx": t("warnings (Excel)"),
            "report": t("report")}.get(name, name)


def _reason(reason: str) -> str:
    """A reason's meaning, with its code in brackets so that people can search for it."""
    meaning = reason_message(reason).split(" — ")[0]
    return meaning if meaning == reason else t("{meaning} ({code})", meaning=meaning,
                                               code=reason)


def print_summary(result: RunResult, console: Console, verbose: bool = False) -> None:
    """Verdict first, then the funnel, the main reject reasons, the checks that failed (all of
    them with verbose) and where the outputs are: about 20 lines."""
    ledger = result.ledger
    failed = [inv for inv in ledger.invariants if not inv.ok]
    if result.exit_code == 0:
        console.print("[bold green]✔ " + escape(t("Reconciled: every record is either written "
                                                 "or listed in rejects.csv.")) + "[/bold green]")
    else:
        console.print("[bold red]✘ " + escape(t("NOT reconciled: see the failed checks "
                                               "below.")) + "[/bold red]")
    diagnosis = getattr(result, "diagnosis", None)
    if diagnosis is not None:
        console.print("[bold red]" + escape(diagnosis.message()) + "[/bold red]",
                      highlight=False)
    console.print(t("Records: {read} read → {accepted} accepted + {rejected} rejected",
                    read=f"{ledger.data_read:,}", accepted=f"{ledger.accepted:,}",
                    rejected=f"{ledger.rejected:,}"), highlight=False)
    sinks = [(inv.name.partition(":")[2], inv.actual) for inv in ledger.invariants
             if inv.name.startswith("sink_rows:")]
    if sinks:
        console.print(t("Written: {outputs}", outputs=t(", ").join(
            f"{output_label(name)} {format_value(rows)}" for name, rows in sinks)),
            highlight=False)
    passed = len(ledger.invariants) - len(failed)
    console.print(t("Checks: {passed} of {total} passed", passed=passed,
                    total=len(ledger.invariants)), highlight=False)
    if ledger.rejected_by_reason:
        reasons = Table(title=t("Rejected records by first reason"), header_style="bold",
                        title_justify="left")
        reasons.add_column(t("reason"))
        reasons.add_column(t("records"), justify="right")
        reasons.add_column(t("fix"))
        common = ledger.rejected_by_reason.most_common()
        shown = common if verbose else common[:TOP_REASONS]
        for reason, count in shown:
            reasons.add_row(escape(_reason(reason)), f"{count:,}",
                            escape(fix_side_label(reason)))
        if len(shown) < len(common):
            rest = sum(count for _, count in common[len(shown):])
            reasons.add_row(t("{n} other reasons", n=len(common) - len(shown)), f"{rest:,}",
                            "")
        console.print(reasons)
    if ledger.warnings_by_reason:
        console.print(t("Warnings (values kept): {items}", items=t(", ").join(
            f"{_reason(r)} {c:,}" for r, c in ledger.warnings_by_reason.most_common(
                None if verbose else TOP_REASONS))), highlight=False)
    for inv in (ledger.invariants if verbose else failed):
        mark = "[green]OK[/green]" if inv.ok else "[red]" + t("FAILED") + "[/red]"
        console.print(f"  {mark} " + escape(t("{check}: expected {expected}, found {actual}",
                                              check=check_label(inv.name),
                                              expected=format_value(inv.expected),
                                              actual=format_value(inv.actual))),
                      highlight=False)
    _print_figures(getattr(result, "document", None) or {}, console, verbose)
    if result.max_rejects_exceeded:
        console.print("[red]" + escape(t("More records were rejected than --max-rejects "
                                         "allows.")) + "[/red]")
    folder = result.run_json.parent
    console.print(t("Outputs in {folder}: {files}", folder=folder, files=t(", ").join(
        [path.name for path in result.outputs.values()] + [result.run_json.name])),
        highlight=False, soft_wrap=True)
    if result.exit_code != 0:
        console.print(t("Nothing was published: the output folder and the database are as "
                        "they were. The evidence of this run is in {folder}.",
                        folder=folder), highlight=False)
    elif not verbose:
        console.print(t("Every check is in report.html and run.json; -v lists them here."),
                      highlight=False)


def _print_figures(document: dict[str, Any], console: Console, verbose: bool) -> None:
    """The trailer figures: how many agree, and each one that does not (every one with -v),
    with the trailer record and the records it speaks for."""
    figures = document.get("trailer_figures") or []
    if not figures:
        return
    agree = sum(1 for f in figures if f["ok"])
    console.print(t("Trailer figures: {agree} of {total} agree", agree=agree,
                    total=len(figures)), highlight=False)
    for f in figures:
        if f["ok"] and not verbose:
            continue
        mark = "[green]OK[/green]" if f["ok"] else "[red]" + t("FAILED") + "[/red]"
        line = t("{figure} (trailer record {trailer}, records {records}): expected "
                 "{expected}, found {actual}", figure=f["name"],
                 trailer=format_value(f["trailer_record"]), records=f["records"] or "—",
                 expected=format_value(f["expected"]), actual=format_value(f["actual"]))
        note = figure_note(f)
        if note:
            line += t(" — {reason}", reason=note)
        console.print(f"  {mark} " + escape(line), highlight=False)


def print_plan_summary(result: Any, console: Console) -> None:
    """A migration plan: the verdict first, one line per file, records against rows, the
    cross-file checks, and where to look."""
    from migrate.errors import format_error

    document = result.document
    if result.exit_code == 0:
        console.print("[bold green]✔ " + escape(t(
            "Reconciled: every record of every file is either written or listed in its "
            "rejects.csv.")) + "[/bold green]")
    else:
        console.print("[bold red]✘ " + escape(t("NOT reconciled: see the failed checks "
                                               "below.")) + "[/bold red]")
    diagnosis = getattr(result, "diagnosis", None)
    if diagnosis is not None:
        console.print("[bold red]" + escape(diagnosis.message()) + "[/bold red]",
                      highlight=False)
    table = Table(title=t("Migration"), header_style="bold", title_justify="left")
    for column in (t("layout"), t("read"), t("accepted"), t("rejected"), t("rows"),
                   t("status")):
        table.add_column(column, justify="right" if column != t("layout") else "left")
    folded = []
    for f in document["files"]:
        label = f["layout"] if "/" not in f["name"] else f"{f['layout']} ({f['name']})"
        if f["status"] == "error":
            table.add_row(label, "", "", "", "", "[red]" + escape(t("error")) + "[/red]")
            continue
        status = "[green]OK[/green]" if f["reconciled"] else "[red]" + t("FAILED") + "[/red]"
        table.add_row(label, f"{f['data_records_read']:,}", f"{f['accepted']:,}",
                      f"{f['rejected']:,}", f"{f['rows']:,}", status)
        if f["rows"] != f["accepted"]:
            kinds = [k for k in (f.get("records_by_type") or {})
                     if k not in ("data", "header", "trailer", "unknown")]
            folded.append(t("{layout}: {accepted} records accepted make {rows} rows: its "
                            "{names} records are columns of the row of the person they belong "
                            "to.", layout=f["layout"], accepted=f"{f['accepted']:,}",
                            rows=f"{f['rows']:,}", names=t(", ").join(kinds)))
    console.print(table)
    for line in folded:
        console.print("  " + line, highlight=False)
    if document["cross_file"]:
        console.print(t("Checks across files (records rejected):"), highlight=False)
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
    for _item, error in result.failed:
        console.print(f"[bold red]{t('error')}:[/bold red] {format_error(error)}",
                      highlight=False, soft_wrap=True)
    console.print(t("Outputs in {folder}: {files}", folder=result.run_json.parent,
                    files=t(", ").join([Path(str(result.report)).name,
                                        result.run_json.name])), highlight=False,
                  soft_wrap=True)
    if result.exit_code != 0:
        console.print(t("Nothing was published: the output folder and the database are as "
                        "they were. The evidence of this run is in {folder}.",
                        folder=result.run_json.parent), highlight=False)
