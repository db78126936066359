"""Code tables (vendor code → standard code) and 外字 tables (private-use character → MJ
character): small UTF-8 CSV files a mapping names.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from migrate.errors import LayoutError, UsageError
from migrate.layouts.yamlpos import NotUtf8Error, TooLargeError, read_text

MAX_TABLE_BYTES = 16 * 1024 * 1024  # the bundled tables are < 10 kB


@dataclass(frozen=True)
class CodeTable:
    """A vendor → standard code table (CSV: source,standard[,note]); keyed by several fields
    (`key`), one CSV column per key field and the vendor values as a tuple in that order."""

    path: Path
    mapping: dict[Any, str]
    key: tuple[str, ...] = ()

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


def load_code_table(path: Path) -> CodeTable:
    rows = read_csv_table(path, ("source", "standard"))
    mapping: dict[str, str] = {}
    for number, row in enumerate(rows, start=2):
        src = row["source"]
        if src in mapping:
            raise LayoutError("source code '{code}' appears twice", {"code": src}, file=path,
                              line=number, hint="Each vendor code must map to one standard code.")
        mapping[src] = row["standard"]
    return CodeTable(path, mapping)


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


def load_gaiji_table(path: Path) -> dict[str, str]:
    """外字 table (CSV: code,char[,note]) keyed by the PUA character the cp932 codec yields."""
    table: dict[str, str] = {}
    for number, row in enumerate(read_csv_table(path, ("code", "char")), start=2):
        code = row["code"].strip().upper()
        try:
            lead, trail = int(code[:2], 16), int(code[2:], 16)
            if len(code) != 4 or not (0xF0 <= lead <= 0xF9) or not (0x40 <= trail <= 0xFC) \
                    or trail == 0x7F:
                raise ValueError
        except ValueError:
            raise LayoutError("'{code}' is not a user-defined-area code (F040–F9FC)",
                              {"code": code}, file=path, line=number) from None
        pua = bytes([lead, trail]).decode("cp932")
        if not row["char"]:
            raise LayoutError("gaiji {code} has no replacement character", {"code": code},
                              file=path, line=number,
                              hint="Fill in the character identified for it (MJ / 行政事務標準文字).")
        table[pua] = row["char"]
    return table
