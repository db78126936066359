"""rejects.xlsx / warnings.xlsx, read back with openpyxl: the CSV's rows and masked values, a
header in the user's language, the header frozen, an autofilter, widths from the contents."""

from __future__ import annotations

import stat

import openpyxl
import pytest

from migrate.sinks import excel
from migrate.sinks.csv import CsvSink
from migrate.sinks.excel import write_problems_xlsx

COLUMNS = ["record", "offset", "field", "column", "reason", "message", "value", "detail"]


def problems_csv(path, n: int = 2):
    """A rejects.csv as the run writes it (BOM, header), n rows."""
    import polars as pl

    sink = CsvSink(path, COLUMNS, bom=True)
    sink.write(pl.DataFrame({
        "record": [str(3 + i) for i in range(n)], "offset": [str(1234567 + 431 * i)
                                                            for i in range(n)],
        "field": ["shimei"] * n, "column": ["shimei"] * n, "reason": ["gaiji_unmapped"] * n,
        "message": ["外字表にない文字です"] * n, "value": ["**　**"] * n,
        "detail": [None] * n}))
    sink.commit()
    return path



@pytest.mark.parametrize("lang", ["ja_JP.UTF-8", "en_US.UTF-8"], indirect=True)
def test_the_workbook_holds_the_csv_rows_for_people(tmp_path, lang):
    path = write_problems_xlsx(problems_csv(tmp_path / "rejects.csv"), tmp_path / "rejects.xlsx",
                               "除外リスト" if lang == "ja" else "rejects")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    sheet = openpyxl.load_workbook(path).active
    rows = list(sheet.iter_rows(values_only=True))
    if lang == "ja":
        assert sheet.title == "除外リスト"
        assert rows[0] == ("レコード番号", "位置（バイト）", "項目", "列", "理由コード",
                           "問題の内容", "値（個人情報はマスク済み）", "詳細")
    else:
        assert rows[0][:2] == ("record", "byte offset") and rows[0][6].startswith("value")
    assert rows[1] == (3, 1234567, "shimei", "shimei", "gaiji_unmapped", "外字表にない文字です",
                       "**　**", None)
    assert len(rows) == 3
    assert sheet.freeze_panes == "A2"  # the header stays in view
    table, = sheet.tables.values()
    assert table.autoFilter.ref == table.ref == "A1:H3"
    widths = {k: d.width for k, d in sheet.column_dimensions.items()}
    assert widths["F"] > widths["C"]  # the message (Japanese: double width) is the widest
    assert sheet["B2"].number_format == "#,##0"


def test_a_long_list_keeps_the_first_rows_and_says_where_the_rest_is(tmp_path, monkeypatch):
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LANGUAGE", raising=False)
    monkeypatch.setattr(excel, "XLSX_ROWS", 5)
    path = write_problems_xlsx(problems_csv(tmp_path / "rejects.csv", 8),
                               tmp_path / "rejects.xlsx", "rejects")
    rows = list(openpyxl.load_workbook(path).active.iter_rows(values_only=True))
    assert [r[0] for r in rows[1:6]] == [3, 4, 5, 6, 7]
    assert rows[-1][0] == "The first 5 rows of 8: every row is in rejects.csv."


def test_an_empty_list_is_a_header_row(tmp_path):
    path = write_problems_xlsx(problems_csv(tmp_path / "warnings.csv", 0),
                               tmp_path / "warnings.xlsx", "warnings")
    rows = list(openpyxl.load_workbook(path).active.iter_rows(values_only=True))
    assert len(rows) == 1 and len(rows[0]) == 8
