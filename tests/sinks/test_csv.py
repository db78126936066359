"""The CSV sink: the standard layout without a BOM, the files for people (rejects.csv,
warnings.csv) with one, and every reader of the repository reads both alike."""

from __future__ import annotations

import csv
import hashlib

import polars as pl
import pytest

from migrate.sinks.csv import CsvSink


@pytest.mark.parametrize("bom", [False, True])
def test_bom_only_when_asked_and_the_file_reads_the_same(tmp_path, bom):
    path = tmp_path / "rejects.csv"
    sink = CsvSink(path, ["record", "reason", "value"], sum_columns=("record",), bom=bom)
    sink.write(pl.DataFrame({"record": ["2", "5"], "reason": ["invalid_date", "重複"],
                             "value": ["****-**-**", "山田　＊＊"]}))
    sink.commit()
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbfrecord,") == bom
    assert data.startswith(b"record,") != bom
    assert sink.count() == 2 and sink.column_sum("record") == 7  # the re-count skips the BOM
    frame = pl.read_csv(path, infer_schema=False)
    assert frame.columns == ["record", "reason", "value"]
    assert frame["reason"].to_list() == ["invalid_date", "重複"]
    assert pl.scan_csv(path, infer_schema=False).select("record").collect().height == 2
    with open(path, encoding="utf-8-sig", newline="") as handle:
        assert [row["record"] for row in csv.DictReader(handle)] == ["2", "5"]
    # what Excel on Japanese Windows needs: UTF-8 announced by the BOM, not cp932
    assert data.decode("utf-8-sig").splitlines()[2].startswith("5,重複,")


def test_the_recount_hashes_the_committed_file_it_reads(tmp_path):
    sink = CsvSink(tmp_path / "out.csv", ["a", "b"], ("b",))
    sink.write(pl.DataFrame({"a": ["x", "名前"], "b": ["1", "2"]}))
    sink.commit()
    assert sink.sha256 is None  # nothing read back yet
    assert sink.count() == 2 and sink.column_sum("b") == 3
    assert sink.sha256 == hashlib.sha256((tmp_path / "out.csv").read_bytes()).hexdigest()
