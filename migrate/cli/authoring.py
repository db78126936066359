"""The commands that help write and review mappings: explain, list (and preview, sniff,
layout from-copybook). Parse, call `migrate.author`, print; no logic lives here."""

from __future__ import annotations

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from migrate.cli.errorhandling import handles_errors
from migrate.i18n import language, t


@click.command("explain", help=t("Show what a reject or warning reason of rejects.csv / "
                                 "warnings.csv means, whether its usual cause is the data or the "
                                 "mapping, and the fix (in Japanese and English). Without "
                                 "REASON: every reason."))
@click.argument("reason", metavar="REASON", required=False)
@handles_errors
def explain_command(reason: str | None) -> None:
    """The help text is in the decorator (translated)."""
    from migrate.author.explain import all_reasons, explain

    console = Console(highlight=False)
    if reason is None:
        for code in all_reasons():
            console.print(f"{escape(code)}  {escape(explain(code).what)}", soft_wrap=True)
        return
    first = language()
    for lang in (first, "en" if first == "ja" else "ja"):
        found = explain(reason, lang)
        console.print(f"[bold]{escape(found.reason)}[/bold] ({lang}): {escape(found.what)}",
                      soft_wrap=True)
        console.print(f"  {t('Usual cause', lang)}: {escape(found.cause)}", soft_wrap=True)
        console.print(f"  {t('Fix', lang)}: {escape(found.fix)}", soft_wrap=True)


@click.command("list", help=t("List the bundled mappings and standard layouts (schemas) with "
                              "their titles: the ids --mapping and target: accept."))
@handles_errors
def list_command() -> None:
    """The help text is in the decorator (translated)."""
    from migrate.author.listing import bundled_entries

    japanese = language() == "ja"
    entries = bundled_entries()
    console = Console(highlight=False)
    for kind, title in (("mapping", t("Mappings")), ("schema", t("Standard layouts (schemas)"))):
        table = Table(title=title, title_justify="left")
        table.add_column("id", no_wrap=True)
        table.add_column(t("title"))
        table.add_column(t("details"))
        for entry in (e for e in entries if e.kind == kind):
            if kind == "mapping":
                what = t("→ {target}, {format}, {encoding}", target=entry.target,
                         format=entry.format, encoding=entry.encoding)
                if entry.record_length:
                    what += t(", {length}-byte records", length=entry.record_length)
            else:
                what = t("{count} columns", count=entry.columns)
            table.add_row(escape(entry.id),
                          escape(entry.title_ja if japanese else entry.title_en), escape(what))
        console.print(table)


COMMANDS = (explain_command, list_command)
