"""Code and 外字 tables: small UTF-8 CSV files; a wrong path (a folder, a device, a huge file)
or a malformed table is a LayoutError naming the file, never a crash or a hang."""

from __future__ import annotations

from pathlib import Path

import pytest

from migrate.errors import LayoutError, UsageError
from migrate.layouts import load_code_table
from migrate.layouts import tables as tables_module


def test_device_is_refused_before_reading():
    with pytest.raises(LayoutError, match="device or a pipe"):
        load_code_table(Path("/dev/zero"))


def test_folder_is_refused(tmp_path):
    with pytest.raises(LayoutError, match="is a folder"):
        load_code_table(tmp_path)


def test_missing_file(tmp_path):
    with pytest.raises(UsageError, match="does not exist"):
        load_code_table(tmp_path / "nope.csv")


def test_size_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(tables_module, "MAX_TABLE_BYTES", 100)
    path = tmp_path / "big.csv"
    path.write_text("source,standard\n" + "1,1\n" * 100, encoding="utf-8")
    with pytest.raises(LayoutError, match="more than the 100"):
        load_code_table(path)


def test_not_utf8(tmp_path):
    path = tmp_path / "codes.csv"
    path.write_bytes("source,standard,note\n1,1,男性\n".encode("cp932"))
    with pytest.raises(LayoutError, match="looks like cp932"):
        load_code_table(path)


def test_short_row(tmp_path):
    path = tmp_path / "codes.csv"
    path.write_text("source,standard\n1,1\n2\n", encoding="utf-8")
    with pytest.raises(LayoutError) as caught:
        load_code_table(path)
    assert caught.value.line == 3


def test_good_table_with_bom(tmp_path):
    path = tmp_path / "codes.csv"
    path.write_text("\ufeffsource,standard,note\n1,01,男\n2,02,\n", encoding="utf-8")
    assert load_code_table(path).mapping == {"1": "01", "2": "02"}


def test_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    import os

    fifo = tmp_path / "codes.csv"
    os.mkfifo(fifo)
    with pytest.raises(LayoutError, match="device or a pipe"):
        load_code_table(fifo)
