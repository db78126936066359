"""The byte-exact reader: framing checks, record kinds, record numbers, chunking, EOF byte."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from migrate.errors import InputFormatError, UsageError
from migrate.read.fixed import DATA, HEADER, TRAILER, UNKNOWN, FixedWidthReader


def record(kind: bytes, length: int = 430) -> bytes:
    return kind + b" " * (length - 1) + b"\r\n"


def write(tmp_path: Path, body: bytes) -> Path:
    path = tmp_path / "in.dat"
    path.write_bytes(body)
    return path


def test_kinds_numbers_and_chunks(tmp_path, juki_mapping):
    body = record(b"1") + b"".join(record(b"2") for _ in range(9)) + record(b"7") + record(b"9")
    reader = FixedWidthReader(write(tmp_path, body), juki_mapping.source, chunk_bytes=432 * 5)
    chunks = list(reader.chunks())
    assert [c.first_record for c in chunks] == [1, 6, 11]
    kinds = np.concatenate([c.kinds for c in chunks])
    assert kinds[0] == HEADER and kinds[-1] == TRAILER and kinds[10] == UNKNOWN
    assert (kinds[1:10] == DATA).all()
    assert chunks[1].byte_offsets()[0] == 5 * 432
    assert chunks[0].records.shape == (5, 430)
    assert reader.plan() == [(1, 5), (6, 5), (11, 2)]
    again = reader.read_chunk(6, 5)
    assert (again.records == chunks[1].records).all() and (again.kinds == chunks[1].kinds).all()


def test_header_in_the_middle_is_unknown(tmp_path, juki_mapping):
    body = record(b"1") + record(b"2") + record(b"1") + record(b"9")
    reader = FixedWidthReader(write(tmp_path, body), juki_mapping.source)
    kinds = next(reader.chunks()).kinds
    assert list(kinds) == [HEADER, DATA, UNKNOWN, TRAILER]


def test_eof_marker_is_dropped(tmp_path, juki_mapping):
    body = record(b"1") + record(b"2") + record(b"9") + b"\x1a"
    reader = FixedWidthReader(write(tmp_path, body), juki_mapping.source)
    assert reader.n_records == 3
    assert [len(c.records) for c in reader.chunks()] == [3]


def test_wrong_record_length_is_explained(tmp_path, juki_mapping):
    body = b"1" + b" " * 399 + b"\r\n" + b"2" + b" " * 399 + b"\r\n"
    with pytest.raises(InputFormatError) as info:
        FixedWidthReader(write(tmp_path, body), juki_mapping.source)
    text = str(info.value)
    assert "432" in text and "400" in text  # the stride and the first line's length


def test_record_without_line_break(tmp_path, juki_mapping):
    bad = b"2" + b" " * 430 + b"\n"  # 432 bytes, but the CRLF is off by one
    body = record(b"1") + record(b"2") + bad + record(b"9")
    reader = FixedWidthReader(write(tmp_path, body), juki_mapping.source)
    with pytest.raises(InputFormatError) as info:
        list(reader.chunks())
    assert info.value.record == 3
    assert info.value.offset == 2 * 432 + 430


def test_missing_header(tmp_path, juki_mapping):
    body = record(b"2") + record(b"9")
    with pytest.raises(InputFormatError) as info:
        FixedWidthReader(write(tmp_path, body), juki_mapping.source)
    assert info.value.record == 1


def test_missing_trailer_is_detected(tmp_path, juki_mapping):
    body = record(b"1") + record(b"2")
    reader = FixedWidthReader(write(tmp_path, body), juki_mapping.source)
    assert reader.trailer_record() is None


def test_missing_file(tmp_path, juki_mapping):
    with pytest.raises(UsageError):
        FixedWidthReader(tmp_path / "nope.dat", juki_mapping.source)


def test_empty_file(tmp_path, juki_mapping):
    with pytest.raises(InputFormatError):
        FixedWidthReader(write(tmp_path, b""), juki_mapping.source)


def test_split_fields_equals_slicing_every_field(juki_mapping):
    """Fields are cut out of the records block by block; each must equal its slice, whatever
    the number of records (not a multiple of the block, fewer than one block)."""
    from migrate.transform.mapper import SPLIT_BLOCK_ROWS, split_fields

    specs = list(juki_mapping.fields.values())
    rng = np.random.default_rng(11)
    for n in (SPLIT_BLOCK_ROWS * 3 + 17, 5, 0):
        records = rng.integers(0, 256, (n, 432), dtype=np.uint8)
        for spec, cells in zip(specs, split_fields(records, specs), strict=True):
            assert cells.flags.c_contiguous
            assert np.array_equal(cells, records[:, spec.offset:spec.end]), spec.name
