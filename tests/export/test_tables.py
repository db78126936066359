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
