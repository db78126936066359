"""The draft mapping `migrate sniff --write` writes: every guess as a field f001…, commented
with its masked samples (the shape of the values, never the values) and why its type was
chosen, and a companion schema (`<draft>.schema.yaml`) with one column per field, so that
`migrate run` runs the draft as it is and its CSV shows what each field holds. The user then
renames the fields and maps them to the standard layout.

The YAML is written line by line rather than dumped: comments are the point of a draft.
Every column of the companion schema is marked personal (pii) except numbers, until the user
knows better: a draft must not leak what it has not understood.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from migrate.author.sniff import SniffReport
from migrate.author.sniff.fields import FieldGuess

DTYPES = {"text": "str", "digits": "digits", "zoned": "int", "packed": "int", "binary": "int",
           "decimal": "decimal", "wareki": "partial_date", "ymd": "partial_date"}
PII = {"str": "name", "digits": "id", "partial_date": "date"}
_NUMERIC = ("zoned", "packed", "decimal")


def schema_path(draft: Path) -> Path:
    """Where the companion schema of a draft mapping goes: beside it."""
    return draft.with_name(draft.stem + ".schema.yaml")


def safe_name(path: Path) -> str:
    """A safe lower-case name from the input file's name (ids become file and table names)."""
    name = re.sub(r"[^a-z0-9_]", "_", path.stem.lower()).strip("_")
    if not name or not name[0].isalpha():
        name = "f_" + name
    return name[:36]


def quoted(text: str) -> str:
    """A YAML double-quoted scalar (JSON's string syntax is YAML's)."""
    return json.dumps(text, ensure_ascii=False)


def _comment(guess: FieldGuess, extra: str = "") -> str:
    parts = [*guess.notes]
    if guess.samples:
        parts.append("samples " + " | ".join(s.replace("\n", " ") for s in guess.samples))
    if extra:
        parts.append(extra)
    return ("  # " + "; ".join(parts)) if parts else ""


def _field_line(name: str, guess: FieldGuess, place: str, indent: str) -> str:
    extras = ", lenient_calendar: true" if guess.type in ("wareki", "ymd") else ""
    return (f"{indent}{name}: {{{place}, length: {guess.length}, type: {guess.type}{extras}}}"
            + _comment(guess))


def draft_texts(report: SniffReport, draft: Path) -> tuple[str, str]:
    """The draft mapping's YAML and its companion schema's YAML."""
    name = safe_name(report.path)
    framing, encoding = report.framing, report.encoding
    delimited = framing.format == "delimited"
    trials = ", ".join(f"{g.encoding} {g.bad_bytes}" for g in encoding.trials)
    lines = [
        f"# Draft mapping written by migrate sniff from {report.path.name} "
        f"({report.size:,} bytes). Every line is a guess:",
        f"#   migrate preview --mapping {draft.name} {report.path.name}",
        "# shows each field beside its bytes. Rename the fields f001… and map them to the "
        "standard layout.",
        "# Samples are masked: 9 digit, X letter, ｶ half-width kana, 漢 wide character, "
        "∅ blank.",
        f"mapping: draft/{name}",
        "version: 1",
        f"title: {{ja: {quoted(report.path.name + ' の下書き（migrate sniff）')}, "
        f"en: {quoted('Draft for ' + report.path.name + ' (migrate sniff)')}}}",
        f"target: {schema_path(draft).name}",
        "source:",
        f"  format: {framing.format}",
        f"  encoding: {encoding.encoding}  # confidence {encoding.confidence:.2f}; bad bytes "
        f"by trial decode: {trials}; chardet: {encoding.chardet or '-'}",
    ]
    if delimited:
        lines += [f"  delimiter: {quoted(framing.delimiter)}",
                  f"  quote: {quoted(framing.quote)}",
                  f"  newline: {framing.newline}"]
    else:
        candidates = ", ".join(f"{n} ({s:.2f})" for n, s in framing.candidates)
        lines += [f"  record_length: {framing.record_length}  # {framing.records:,} records"
                  + (f"; by periodicity, candidates {candidates}" if candidates else ""),
                  f"  newline: {framing.newline}"]
    if framing.eof_marker is not None:
        lines.append(f"  eof_marker: 0x{framing.eof_marker:02x}")
    columns = ["  src_record: {source: record_number}"]
    schema = [("src_record", "int", None, "Source record number")]
    if delimited:
        _delimited_parts(report, lines, columns, schema)
    else:
        _fixed_parts(report, lines, columns, schema)
    lines.append("columns:")
    lines += columns
    return "\n".join(lines) + "\n", schema_text(name, report.path.name, schema)


def _fixed_parts(report: SniffReport, lines: list[str], columns: list[str],
                 schema: list[tuple[str, str, str | None, str]]) -> None:
    rt = report.record_types
    if rt is not None:
        codes = ", ".join(f"{k}: {quoted(v)}" for k, v in (("header", rt.header), ("data", rt.data),
                                                        ("trailer", rt.trailer)) if v)
        lines.append(f"  record_type: {{offset: {rt.offset}, length: {rt.length}, {codes}}}"
                     f"  # codes in the sample: "
                     + ", ".join(f"{c} ×{n}" for c, n in rt.counts))
    header = [g for g in report.header_fields if g.type != "bytes"]
    if header:
        lines.append("header:")
        for i, guess in enumerate(header, start=1):
            lines.append(_field_line(f"h{i:03d}", guess, f"offset: {guess.offset}", "  "))
            columns.append(f"  h{i:03d}: {{header: h{i:03d}}}")
            schema.append((f"h{i:03d}", DTYPES[guess.type], None, "Header field"))
    if report.trailer is not None:
        t = report.trailer
        lines += ["trailer:",
                  f"  count: {{offset: {t.offset}, length: {t.length}, type: {t.type}}}"
                  f"  # equals the {t.count:,} data records of the file"]
    lines.append("fields:")
    _fields(report.fields, "", lines, columns, schema, "  ")
    if report.children and rt is not None:
        lines.append("records:")
        for code, fields in report.children.items():
            record = f"rec_{re.sub(r'[^a-z0-9]', '_', code.lower())}"
            lines += [f"  {record}:  # records of type {code} after a data record",
                      f"    code: {quoted(code)}", "    belongs_to: previous", "    fields:"]
            _fields(fields, record, lines, columns, schema, "      ")


def _fields(guesses: list[FieldGuess], record: str, lines: list[str], columns: list[str],
            schema: list[tuple[str, str, str | None, str]], indent: str) -> None:
    """Declare the fields; each feeds a column (a child's numbers are summed per parent, its
    other fields counted; the first field is taken once when it has no number)."""
    declared = [g for g in guesses if g.type != "bytes"]
    taken_once = record and not any(g.type in _NUMERIC for g in declared)
    for i, guess in enumerate(guesses, start=1):
        name = f"f{i:03d}"
        if guess.type == "bytes":
            lines.append(f"{indent}# bytes {guess.offset}–{guess.end - 1}: "
                         + "; ".join(guess.notes))
            continue
        lines.append(_field_line(name, guess, f"offset: {guess.offset}", indent))
        column = f"{record}_{name}" if record else name
        source = f"{record}.{name}" if record else name
        dtype = DTYPES[guess.type]
        if record and guess.type in _NUMERIC:
            columns.append(f"  {column}: {{from: {source}, aggregate: sum}}")
        elif record and taken_once and guess is declared[0]:
            columns.append(f"  {column}: {{from: {source}, aggregate: only}}")
        elif record:
            columns.append(f"  {column}: {{from: {source}, aggregate: count}}")
            dtype = "int"
        else:
            kana = ", kana: fullwidth" if guess.kana else ""
            columns.append(f"  {column}: {{from: {source}{kana}}}")
        schema.append((column, dtype, PII.get(dtype), f"bytes {guess.offset}–{guess.end - 1}"))


def _delimited_parts(report: SniffReport, lines: list[str], columns: list[str],
                     schema: list[tuple[str, str, str | None, str]]) -> None:
    cells = report.cells
    assert cells is not None
    lines.append(f"  header_line: {'true' if cells.header_line else 'false'}")
    if cells.record_type_column is not None:
        codes = f"data: {quoted(cells.data_code or '')}"
        if cells.trailer_code:
            codes += f", trailer: {quoted(cells.trailer_code)}"
        lines.append(f"  record_type: {{column: {cells.record_type_column}, {codes}}}")
    if report.trailer is not None:
        t = report.trailer
        lines += ["trailer:",
                  f"  count: {{column: {t.offset}, length: {t.length}, type: {t.type}}}"
                  f"  # equals the {t.count:,} data lines of the file"]
    lines.append("fields:")
    for i, guess in enumerate(cells.columns, start=1):
        name = f"f{i:03d}"
        title = cells.names[guess.offset] if guess.offset < len(cells.names) else ""
        title = title.replace("\n", " ").replace("#", " ")
        extra = f"header line: {title}" if title else ""
        scale = ", scale: 2" if guess.type == "decimal" else ""
        dates = ", lenient_calendar: true" if guess.type in ("wareki", "ymd") else ""
        lines.append(f"  {name}: {{column: {guess.offset}, length: {guess.length}, "
                     f"type: {guess.type}{scale}{dates}}}" + _comment(guess, extra))
        columns.append(f"  {name}: {name}")
        dtype = DTYPES[guess.type]
        schema.append((name, dtype, PII.get(dtype), f"column {guess.offset}"))


def schema_text(name: str, file_name: str,
                columns: list[tuple[str, str, str | None, str]]) -> str:
    """A companion layout: one column per (name, dtype, pii, description), keyed by the
    record number, so that a draft mapping runs before anyone has mapped it."""
    lines = [f"# Companion layout of the draft mapping for {file_name}: one column per "
             "field, so that migrate run",
             "# can run the draft. Every column but numbers is marked personal (pii) until you "
             "know what it holds.",
             f"layout: {name}/v1",
             f"title: {{ja: {quoted(file_name + ' の下書き')}, "
             f"en: {quoted('Draft layout for ' + file_name)}}}",
             "primary_key: [src_record]",
             "columns:"]
    for column, dtype, pii, what in columns:
        extra = ", required: true" if column == "src_record" else ""
        extra += ", scale: 2" if dtype == "decimal" else ""
        extra += f", pii: {pii}" if pii else ""
        lines.append(f"  - {{name: {column}, en: {quoted(what)}, dtype: {dtype}{extra}}}")
    return "\n".join(lines) + "\n"
