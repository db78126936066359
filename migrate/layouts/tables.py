"""Code tables (vendor code → standard code) and 外字 tables (private-use character → MJ
character): small UTF-8 CSV files a mapping names.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from migrate.errors import LayoutError, MigrateError, UsageError
from migrate.layouts.characters import SELECTORS
from migrate.layouts.yamlpos import NotUtf8Error, TooLargeError, read_text

MAX_TABLE_BYTES = 16 * 1024 * 1024  # the bundled tables are < 10 kB
# one character, optionally with one variation selector (an IVS picks the glyph of an MJ 文字)
_ONE_CHARACTER = re.compile(f"[^{SELECTORS}][{SELECTORS}]?", re.S)
_MJ_ID = re.compile(r"MJ[0-9]{6}")


@dataclass(frozen=True)
class CodeTable:
    """A vendor → standard code table (CSV: source,standard[,note]); keyed by several fields
    (`key`), one CSV column per key field and the vendor values as a tuple in that order."""

    path: Path
    mapping: dict[Any, str]
    key: tuple[str, ...] = ()
    lines: dict[str, int] = field(default_factory=dict)  # source code → its line in the CSV

def read_csv_table(path: Path, columns: tuple[str, ...]) -> list[dict[str, str]]:
    """Read a small UTF-8 CSV table (code tables, gaiji tables), insisting on its columns.
    Its size is bounded (MAX_TABLE_BYTES): a path to a device or a huge file is refused
    before it is read."""
    try:
        text = read_text(path, MAX_TABLE_BYTES)
    except FileNotFoundError:
        raise UsageError("the table {path} does not exist", {"path": path},
                         hint="Fix the path in the mapping; it is relative to the mapping file."
                         ) from None
    except IsADirectoryError:
        raise LayoutError("the table {path} is a folder, not a CSV file", {"path": path},
                          file=path, hint="Fix the path in the mapping; it is relative to the "
                                          "mapping file.") from None
    except OSError as exc:
        raise UsageError("cannot read {path}: {reason}", {"path": path, "reason": exc.strerror},
                         hint="Check the path and its permissions.") from None
    except TooLargeError as exc:
        if exc.size is None:
            raise LayoutError("the table is a device or a pipe, not a file", file=path,
                              hint="Fix the path in the mapping; it is relative to the mapping "
                                   "file.") from None
        raise LayoutError("the table is {size} bytes, more than the {limit} a table may have",
                          {"size": f"{exc.size:,}", "limit": f"{MAX_TABLE_BYTES:,}"}, file=path,
                          hint="A code or gaiji table is a small CSV file; fix the path in "
                               "the mapping.") from None
    except NotUtf8Error as exc:
        raise LayoutError("the table is not UTF-8 text; it looks like {encoding}",
                          {"encoding": exc.encoding or "binary data"}, file=path, line=exc.line,
                          hint="Save it as UTF-8 (with or without BOM).") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        missing = [c for c in columns if c not in (reader.fieldnames or [])]
        if missing:
            raise LayoutError("the table lacks the column(s) {missing}",
                              {"missing": ", ".join(missing)}, file=path, line=1,
                              hint="The first line must name the columns: {columns}.",
                              hint_params={"columns": ",".join(columns)})
        rows = []
        for row in reader:
            if any(row.get(c) is None for c in columns):
                raise LayoutError("line {line} of the table does not have the columns of its "
                                  "first line", {"line": reader.line_num}, file=path,
                                  line=reader.line_num,
                                  hint="Every line needs a value for {columns}.",
                                  hint_params={"columns": ",".join(columns)})
            rows.append(row)
        return rows
    except csv.Error as exc:
        raise LayoutError("the table is not a valid CSV file: {reason}", {"reason": str(exc)},
                          file=path, line=reader.line_num,
                          hint="Save it as plain comma-separated UTF-8 text.") from None


def _report(problems: list[MigrateError] | None, error: LayoutError) -> None:
    """Raise (stop at the first problem), or note it and go on (`migrate check`)."""
    if problems is None:
        raise error
    problems.append(error)


def load_code_table(path: Path, problems: list[MigrateError] | None = None) -> CodeTable:
    """With `problems`, every repeated source code is noted there (the first row kept)."""
    rows = read_csv_table(path, ("source", "standard"))
    mapping: dict[str, str] = {}
    lines: dict[str, int] = {}
    for number, row in enumerate(rows, start=2):
        src = row["source"]
        if src in mapping:
            _report(problems, LayoutError(
                "source code '{code}' appears twice", {"code": src}, file=path, line=number,
                col=1, hint="Each vendor code must map to one standard code.",
                rule="code-duplicate"))
            continue
        mapping[src] = row["standard"]
        lines[src] = number
    return CodeTable(path, mapping, lines=lines)


def load_composite_code_table(path: Path, key: tuple[str, ...]) -> CodeTable:
    """A code table keyed by several fields (CSV: one column per key field, standard[,note]);
    an empty cell matches a blank field."""
    rows = read_csv_table(path, (*key, "standard"))
    mapping: dict[Any, str] = {}
    for number, row in enumerate(rows, start=2):
        values = tuple(row[k] for k in key)
        if values in mapping:
            raise LayoutError("the combination {code} appears twice", {"code": ", ".join(
                f"{k}={v}" for k, v in zip(key, values, strict=True))}, file=path, line=number,
                hint="Each combination of vendor codes must map to one standard code.")
        mapping[values] = row["standard"]
    return CodeTable(path, mapping, key)


def load_gaiji_table(path: Path, encoding: str = "cp932",
                     problems: list[MigrateError] | None = None) -> dict[str, str]:
    """外字 table (CSV: code,char[,mj][,note]) keyed by the PUA character the cp932 codec yields;
    `char` may carry an IVS (base character + U+E0100…), `mj` the MJ 文字 identifier.
    With `problems`, every bad row is noted there and left out."""
    table: dict[str, str] = {}
    for number, row in enumerate(read_csv_table(path, ("code", "char")), start=2):
        code = row["code"].strip().upper()
        euc = encoding.startswith("euc")
        try:
            lead, trail = int(code[:2], 16), int(code[2:], 16)
            if len(code) != 4 or (not euc and (not (0xF0 <= lead <= 0xF9) or not (
                    0x40 <= trail <= 0xFC) or trail == 0x7F)) or (euc and (
                    not 0xF5 <= lead <= 0xFE or not 0xA1 <= trail <= 0xFE)):
                raise ValueError
        except ValueError:
            if euc:
                _report(problems, LayoutError(
                    "'{code}' is not an EUC-JP user-defined-area code (F5A1–FEFE)",
                    {"code": code}, file=path, line=number, col=1, rule="gaiji-area"))
                continue
            _report(problems, LayoutError(
                "'{code}' is not a user-defined-area code (F040–F9FC)", {"code": code},
                file=path, line=number, col=1, rule="gaiji-area"))
            continue
        pua = chr(0xE000 + (lead - 0xF5) * 94 + trail - 0xA1) if euc \
            else bytes([lead, trail]).decode("cp932")
        if not row["char"]:
            _report(problems, LayoutError(
                "gaiji {code} has no replacement character", {"code": code}, file=path,
                line=number, col=1, rule="gaiji-table",
                hint="Fill in the character identified for it (MJ / 行政事務標準文字)."))
            continue
        if not _ONE_CHARACTER.fullmatch(row["char"]):
            raise LayoutError("the replacement of gaiji {code} is not one character", {"code": code},
                              file=path, line=number,
                              hint="Give one character, optionally followed by one variation "
                                   "selector (IVS U+E0100–U+E01EF or U+FE00–U+FE0F).")
        mj = (row.get("mj") or "").strip()
        if mj and not _MJ_ID.fullmatch(mj):
            raise LayoutError("'{code}' is not an MJ identifier such as MJ012345", {"code": mj},
                              file=path, line=number)
        table[pua] = row["char"]
    return table


def gaiji_identifiers(path: Path) -> dict[str, tuple[str, str | None]]:
    """The 外字 table's code (F040) → (replacement, MJ identifier or None), for run.json."""
    return {row["code"].strip().upper(): (row["char"], (row.get("mj") or "").strip() or None)
            for row in read_csv_table(path, ("code", "char"))}


def gaiji_code(pua: str, encoding: str = "cp932") -> str:
    """The user-defined-area code (F040, or F5A1 in EUC-JP) of the private-use character the
    source's codec decodes it to."""
    if encoding.startswith("euc"):
        row, cell = divmod(ord(pua) - 0xE000, 94)
        return f"{0xF5 + row:02X}{0xA1 + cell:02X}"
    return pua.encode("cp932").hex().upper()
