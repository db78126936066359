"""Standard-layout files read batch by batch: the CSV block reader gives the same rows as
polars' own reader, whatever the block size and wherever a block boundary falls."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from migrate.export.tables import text_batches

CASES = {
    "crlf and quoted line breaks": b'a,b,c\r\n1,"x\r\ny",\r\n2,"",""\r\n3,"q""uote",z\r\n'
                                   b'4,,"multi\nline\nvalue"\r\n5,e,f\r\n',
    "no line break at the end": b"a,b\n1,2\n3,4",
    "header only": b"a,b\n",
    "header without line break": b"a,b",
    "quoted header": b'"a","b\nc"\n1,2\n',
    "japanese": "宛名番号,氏名\n000001,山田　太郎\n000002,\"髙橋, 﨑\"\n".encode(),
}


@pytest.mark.parametrize("data", CASES.values(), ids=CASES.keys())
@pytest.mark.parametrize("block", [1, 3, 7, 64, 1 << 20])
def test_csv_blocks_read_as_polars_reads_the_file(tmp_path: Path, data: bytes, block: int):
    path = tmp_path / "t.csv"
    path.write_bytes(data)
    expected = pl.read_csv(path, infer_schema=False)
    frames = list(text_batches(path, block))
    got = pl.concat(frames) if frames else expected.clear()
    assert got.equals(expected)
    assert all(frame.height for frame in frames)


@pytest.mark.parametrize("largest", [1000, 10], ids=["polars-slices", "pyarrow"])
def test_parquet_batches_give_every_row_once_in_order(tmp_path: Path, monkeypatch, largest):
    """Read by polars in slices within row groups, or by pyarrow when a row group is larger
    than ROW_GROUP_ROWS (here 10 rows)."""
    from migrate.export import tables

    monkeypatch.setattr(tables, "ROW_GROUP_ROWS", largest)
    frame = pl.DataFrame({"k": [f"{i:05d}" for i in range(257)], "n": list(range(257))})
    path = tmp_path / "t.parquet"
    frame.write_parquet(path, row_group_size=100)
    batches = list(tables.parquet_batches(path, size=30))
    assert pl.concat(batches).equals(frame)
    assert max(b.height for b in batches) <= 30 and all(b.height for b in batches)
