"""rejects.xlsx and warnings.xlsx: the problem lists as workbooks people open in Excel, beside
the CSVs (which stay the complete record and the machine-facing file).

Written from the committed CSV, so the values are the CSV's (personal values masked the same
way) and nothing else of the data is read: a header row in the user's language, the header
frozen, an autofilter, and column widths from the contents (Japanese characters count double).
polars' `write_excel` with xlsxwriter builds the workbook; it holds the sheet in memory, so a
workbook keeps the first `XLSX_ROWS` rows and says in its last line how many more the CSV has
(nobody reads more in Excel, and memory stays bounded whatever the number of rejects).
"""

from __future__ import annotations

import io
import unicodedata
from pathlib import Path

import polars as pl
from xlsxwriter import Workbook

from migrate.i18n import t
from migrate.sinks.atomic import commit, private_open, temp_path

XLSX_ROWS = 50_000  # rows copied into a workbook; the CSV has them all
MAX_WIDTH = 60  # characters: longer values wrap out of sight rather than widen the sheet
NUMBERS = ("record", "offset")


def column_labels() -> dict[str, str]:
    """The problem lists' columns, as people read them."""
    return {"record": t("record"), "offset": t("byte offset"), "field": t("field"),
            "column": t("column"), "reason": t("reason code"), "message": t("what is wrong"),
            "value": t("value (personal data masked)"), "detail": t("detail")}


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pixels(frame: pl.DataFrame, column: str, label: str) -> int:
    values = frame[column].drop_nulls().cast(pl.Utf8).head(2_000).to_list()
    width = max([_display_width(label), *(_display_width(v) for v in values)])
    return 7 * min(width, MAX_WIDTH) + 12


def write_problems_xlsx(csv_path: Path, xlsx_path: Path, sheet: str) -> Path:
    """The workbook of one problem CSV (rejects.csv or warnings.csv), owner-only, atomic."""
    frame = pl.read_csv(csv_path, infer_schema=False, n_rows=XLSX_ROWS)
    frame = frame.with_columns(pl.col(c).cast(pl.Int64, strict=False)
                               for c in NUMBERS if c in frame.columns)
    labels = column_labels()
    named = frame.rename({c: labels.get(c, c) for c in frame.columns})
    buffer = io.BytesIO()
    workbook = Workbook(buffer, {"in_memory": True})
    named.write_excel(
        workbook, sheet[:31], header_format={"bold": True, "bg_color": "#DDEBF7", "border": 1},
        column_widths={labels.get(c, c): _pixels(frame, c, labels.get(c, c))
                       for c in frame.columns},
        dtype_formats={pl.Int64: "#,##0"}, freeze_panes=(1, 0), autofilter=True)
    if frame.height == XLSX_ROWS:
        total = pl.scan_csv(csv_path, infer_schema=False).select(pl.len()).collect().item()
        if total > XLSX_ROWS:
            workbook.worksheets()[0].write(
                frame.height + 2, 0, t("The first {n} rows of {total}: every row is in {file}.",
                                       n=f"{XLSX_ROWS:,}", total=f"{total:,}",
                                       file=csv_path.name))
    workbook.close()
    temp = temp_path(xlsx_path)
    with private_open(temp, "wb") as handle:
        handle.write(buffer.getvalue())
    commit(temp, xlsx_path)
    return xlsx_path
