"""What `migrate reconcile` prints: the verdict first, one line per file group and per table,
then only the checks that failed (each in words, its id in brackets so that people can search
for it, its figures formatted) and the keys that differ; `-v` lists every check."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.markup import escape

from migrate.i18n import t
from migrate.reconcile.ledger import Invariant
from migrate.reconcile.verify_db import DbCheck
from migrate.report.summary import check_label, format_value, output_label


def _fingerprint(value: object) -> str:
    """A row hash `rows:high:low` as "1,989 rows, hash 1a2b…/3c4d…" (the hash is only compared)."""
    rows, _, hashes = str(value).partition(":")
    if not rows.isdigit():
        return format_value(value)
    return t("{rows} rows, hash {sha}", rows=f"{int(rows):,}", sha=hashes.replace(":", "/"))


def _states() -> dict[str, str]:
    """The words checks record for a file or a table that is or is not there."""
    return {"present": t("present"), "missing": t("missing"), "readable": t("readable"),
            "missing or unreadable": t("missing or unreadable")}


def figure(inv: Invariant, value: object) -> str:
    """One side of a check, for people: numbers with separators, totals in words."""
    if isinstance(value, str) and value in _states():
        return _states()[value]
    if inv.name.startswith("db_row_hash:"):
        return _fingerprint(value)
    if isinstance(value, str) and len(value) == 64 and inv.name.partition(":")[0].endswith(
            "file"):
        return value[:12] + "…"  # a SHA-256: its start is enough to tell two apart
    return format_value(value)


def label(inv: Invariant) -> str:
    """A check in words, with its id in brackets."""
    area, _, name = inv.name.rpartition("/")
    kind, _, subject = name.partition(":")
    if kind == "file":
        text = t("{file}: SHA-256 = the one run.json recorded",
                 file=f"{area}/{output_label(subject)}" if area else output_label(subject))
    else:
        text = check_label(name)
    return t("{meaning} ({code})", meaning=text, code=inv.name)


def check_line(inv: Invariant) -> str:
    return t("{check}: expected {expected}, found {actual}", check=label(inv),
             expected=figure(inv, inv.expected), actual=figure(inv, inv.actual))


def describe(check: DbCheck, verbose: bool = False) -> list[tuple[bool | None, str]]:
    """The lines of one table: (ok, text); ok None for plain lines. The figures are the
    invariants' (min/max of personal columns masked by `_masked`), keys masked by
    `_key_display`, the URL without its password."""
    passed = sum(inv.ok for inv in check.invariants)
    lines: list[tuple[bool | None, str]] = [
        (check.ok, t("table {table}: {passed} of {total} checks passed", table=check.table,
                     passed=passed, total=len(check.invariants)))]
    lines += [(inv.ok, check_line(inv)) for inv in check.invariants if verbose or not inv.ok]
    diff = check.diff
    if diff is None or diff.empty:
        return lines
    key = ",".join(diff.key)
    for what, total, keys in (
            (t("rows missing in the database"), diff.missing_total, diff.missing),
            (t("rows in the database that the run did not write"), diff.extra_total,
             diff.extra)):
        if total:
            lines.append((False, t("{what} ({n}), {key}: {keys}", what=what, n=f"{total:,}",
                                   key=key, keys=_listing(keys, total))))
    if diff.changed_total:
        shown = [f"{k} ({t(', ').join(c)})" if c else k for k, c in diff.changed]
        lines.append((False, t("{what} ({n}), {key}: {keys}",
                               what=t("rows changed in the database"),
                               n=f"{diff.changed_total:,}", key=key,
                               keys=_listing(shown, diff.changed_total))))
    return lines


def _listing(keys: list[str], total: int) -> str:
    text = t(", ").join(keys)
    if total > len(keys):
        text += t("… and {n} more", n=f"{total - len(keys):,}")
    return text


def _mark(ok: bool | None) -> str:
    if ok is None:
        return ""
    return "[green]OK[/green] " if ok else "[red]" + escape(t("FAILED")) + "[/red] "


def print_reconciliation(files: Sequence[Invariant], checks: Sequence[DbCheck],
                         console: Console, verbose: bool = False) -> bool:
    """Print the verdict and the figures; True when everything matched."""
    ok = all(check.ok for check in checks) and all(inv.ok for inv in files)
    if ok:
        console.print("[bold green]✔ " + escape(t("The database matches the run's output."))
                      + "[/bold green]")
    else:
        console.print("[bold red]✘ " + escape(t("The database differs from the run's output."))
                      + "[/bold red]")
    passed = sum(inv.ok for inv in files)
    console.print(_mark(passed == len(files)) + escape(t(
        "Files: {passed} of {total} match the SHA-256 that run.json recorded",
        passed=passed, total=len(files))), highlight=False)
    for inv in files:
        if verbose or not inv.ok:
            console.print("  " + _mark(inv.ok) + escape(check_line(inv)), highlight=False,
                          soft_wrap=True)
    urls = list(dict.fromkeys(check.url for check in checks))
    for url in urls:
        console.print(escape(t("Database {url}", url=url)), highlight=False, soft_wrap=True)
        for check in (c for c in checks if c.url == url):
            for index, (line_ok, line) in enumerate(describe(check, verbose)):
                indent = "  " if index == 0 else "    "
                console.print(indent + _mark(line_ok) + escape(line), highlight=False,
                              soft_wrap=True)
    return ok
