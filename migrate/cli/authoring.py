"""The commands that help write and review mappings: explain, list (and preview, sniff,
layout from-copybook). Parse, call `migrate.author`, print; no logic lives here."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from migrate.cli.errorhandling import handles_errors, stderr
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


@click.command("preview", help=t("Show records of FILE decoded field by field with the mapping: "
                                 "each field's byte offset, its raw bytes in hex, the decoded "
                                 "value and its status, and the bytes no field covers. Personal "
                                 "values are masked unless --unmask is given."))
@click.option("--mapping", "-m", "mapping_ref", required=True,
              help=t("Mapping id (e.g. vendor_a/juki) or path to a mapping YAML file."))
@click.argument("input_path", metavar="FILE", type=click.Path(path_type=Path))
@click.option("-n", "count", type=click.IntRange(min=1), default=None,
              help=t("How many records to show (default 20; 1 with --record)."))
@click.option("--record", "start", type=click.IntRange(min=1), default=None,
              help=t("Start at this record number (1-based, the header included)."))
@click.option("--unmask", is_flag=True,
              help=t("Show personal values (names, addresses, My Numbers) unmasked."))
@handles_errors
def preview_command(mapping_ref: str, input_path: Path, count: int | None, start: int | None,
                    unmask: bool) -> None:
    """The help text is in the decorator (translated)."""
    from migrate.author.preview import preview
    from migrate.layouts import load_mapping

    if unmask:
        stderr.print("[bold yellow]" + t("Warning: --unmask shows personal data on the screen. "
                                         "Do not share or record this screen.")
                     + "[/bold yellow]", highlight=False)
    mapping = load_mapping(mapping_ref)
    views = preview(mapping, input_path, start or 1, count or (1 if start else 20), unmask)
    console = Console(highlight=False)
    for view in views:
        table = Table(title=t("record {record} ({kind}) at byte offset {offset}",
                              record=view.number, kind=view.kind, offset=view.file_offset),
                      title_justify="left")
        for name in (t("field"), t("offset"), t("bytes"), t("type"), "hex", t("value"),
                     t("status"), t("column")):
            table.add_column(name, overflow="fold")
        for field in view.fields:
            status = field.status
            style = "" if status == "ok" else "red"
            if status == "data_in_gap":
                status = t("data in a gap")
            elif field.warning:
                status, style = f"{status}, {field.warning}", "yellow"
            value = "" if field.value is None else field.value
            table.add_row(escape(field.name), f"{field.offset}", f"{field.length}",
                          field.type, field.hex, escape(value),
                          f"[{style}]{escape(status)}[/{style}]" if style else status,
                          escape(", ".join(field.columns)))
        console.print(table)


@click.command("sniff", help=t("Guess the layout of a legacy file that has no layout document: "
                               "encoding, newline style and record length, record types, "
                               "candidate fields and their types, the trailer's record count. "
                               "With --write, write a draft mapping (and its companion schema) "
                               "that migrate run runs as it is."))
@click.argument("input_path", metavar="FILE", type=click.Path(path_type=Path))
@click.option("--write", "write_path", type=click.Path(path_type=Path), default=None,
              help=t("Write the draft mapping to this YAML file (its schema beside it, "
                     "….schema.yaml)."))
@handles_errors
def sniff_command(input_path: Path, write_path: Path | None) -> None:
    """The help text is in the decorator (translated)."""
    from migrate.author.sniff import sniff
    from migrate.author.sniff.draft import draft_texts, schema_path
    from migrate.sinks.atomic import write_text_atomic

    report = sniff(input_path)
    console = Console(highlight=False)
    framing, encoding = report.framing, report.encoding
    console.print(t("encoding: {encoding} (confidence {rate}); chardet says {tool}",
                    encoding=encoding.encoding, rate=f"{encoding.confidence:.2f}",
                    tool=encoding.chardet or "-"))
    for trial in encoding.trials:
        console.print("  " + t("{encoding}: {count} bytes not valid or not plausible",
                               encoding=trial.encoding, count=f"{trial.bad_bytes:,}"))
    if framing.format == "delimited":
        console.print(t("format: delimited, delimiter {name}, newline {nl}",
                        name=repr(framing.delimiter), nl=framing.newline))
    else:
        console.print(t("format: fixed, {length}-byte records, newline {nl}, {records} records",
                        length=framing.record_length, nl=framing.newline,
                        records=f"{framing.records:,}"))
    rt = report.record_types
    if rt is not None:
        console.print(t("record type: offset {offset}, length {length}; header {a}, data {b}, "
                        "trailer {code}, child records {codes}", offset=rt.offset,
                        length=rt.length, a=rt.header or "-", b=rt.data,
                        code=rt.trailer or "-", codes=", ".join(rt.children) or "-"))
    if report.trailer is not None:
        console.print(t("trailer count: offset {offset}, length {length} ({type}) = {count}",
                        offset=report.trailer.offset, length=report.trailer.length,
                        type=report.trailer.type, count=f"{report.trailer.count:,}"))
    fields = report.cells.columns if report.cells else report.fields
    table = Table(title=t("candidate fields"), title_justify="left")
    for name in (t("offset"), t("bytes"), t("type"), t("samples (masked)"), t("notes")):
        table.add_column(name, overflow="fold")
    for guess in fields:
        table.add_row(str(guess.offset), str(guess.length), guess.type,
                      escape(" | ".join(guess.samples)), escape("; ".join(guess.notes)))
    console.print(table)
    if write_path is not None:
        mapping_text, schema_text = draft_texts(report, write_path)
        write_text_atomic(schema_path(write_path), schema_text)
        write_text_atomic(write_path, mapping_text)
        console.print(t("Wrote the draft mapping {path} and its schema {file}; try it with: "
                        "migrate preview --mapping {path} {input}", path=write_path,
                        file=schema_path(write_path), input=input_path))


@click.group("layout", help=t("Record layouts: make a mapping from a COBOL copybook."))
def layout_group() -> None:
    """The help text is in the decorator (translated)."""


@layout_group.command("from-copybook", help=t(
    "Read a COBOL copybook (PIC X, N/G, 9, S9, V, P, COMP-3, COMP, OCCURS, REDEFINES, 66/88, "
    "FILLER) and print its layout (--layout) or write a mapping with its companion schema "
    "(--write; printed when left out)."))
@click.argument("copybook", metavar="FILE.cpy", type=click.Path(path_type=Path))
@click.option("--write", "write_path", type=click.Path(path_type=Path), default=None,
              help=t("Write the mapping to this YAML file (its schema beside it, "
                     "….schema.yaml)."))
@click.option("--layout", "show_layout", is_flag=True,
              help=t("Print the layout: field path, start, end and length (1-based, "
                     "inclusive, as mainframe tools print it)."))
@click.option("--encoding", default="cp932", show_default=True,
              type=click.Choice(["cp932", "shift_jis", "shift_jis_2004", "euc_jp", "utf-8"]),
              help=t("Encoding of the files the copybook describes."))
@click.option("--newline", default="crlf", show_default=True,
              type=click.Choice(["crlf", "lf", "none"]),
              help=t("What ends each record in the files (none: records back to back)."))
@handles_errors
def from_copybook_command(copybook: Path, write_path: Path | None, show_layout: bool,
                          encoding: str, newline: str) -> None:
    """The help text is in the decorator (translated)."""
    from migrate.author.copybook import read_copybook
    from migrate.author.copybook.mapping import mapping_texts
    from migrate.author.sniff.draft import schema_path
    from migrate.sinks.atomic import write_text_atomic

    records = read_copybook(copybook)
    console = Console(highlight=False)
    if show_layout:
        for record in records:
            table = Table(title=t("{name}: {length} bytes", name=record.name,
                                  length=record.length), title_justify="left")
            for name in (t("field"), t("start"), t("end"), t("length"), "PIC", t("type")):
                table.add_column(name, overflow="fold")
            for item in record.items:
                table.add_row(escape(item.path), str(item.offset + 1), str(item.end),
                              str(item.length), escape(item.picture), item.type)
            console.print(table)
            for note in record.notes:
                console.print(f"  {escape(note)}", soft_wrap=True)
    target = write_path or Path(copybook.stem + ".yaml")
    mapping_text, schema_text = mapping_texts(records, copybook, target, encoding, newline)
    if write_path is not None:
        write_text_atomic(schema_path(write_path), schema_text)
        write_text_atomic(write_path, mapping_text)
        console.print(t("Wrote the mapping {path} and its schema {file}.", path=write_path,
                        file=schema_path(write_path)))
    elif not show_layout:
        click.echo(mapping_text, nl=False)


COMMANDS = (explain_command, list_command, preview_command, sniff_command, layout_group)
