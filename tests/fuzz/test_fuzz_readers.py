"""open_reader and the delimited reader on any file: framed exactly or refused with the
project's own error (InputFormatError, UsageError), never another exception.

The framing variants (newline, quote, delimiter, encoding, EOF byte, header line) are the
bundled CSV mapping's source with one setting changed at a time, as another vendor's export
would differ.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from fuzz.budget import fuzz_settings
from hypothesis import given, note
from hypothesis import strategies as st

from migrate.errors import InputFormatError, MigrateError
from migrate.layouts import Mapping, list_bundled_mappings, load_mapping
from migrate.read import open_reader
from migrate.read.fixed import CHILD, DATA, HEADER, TRAILER, UNKNOWN

CSV_ID = "vendor_a/kokuho"
_MAPPINGS: dict[str, Mapping] = {}


def mapping_of(mapping_id: str) -> Mapping:
    """Load each bundled mapping once (examples run in the hundreds)."""
    if mapping_id not in _MAPPINGS:
        _MAPPINGS[mapping_id] = load_mapping(mapping_id)
    return _MAPPINGS[mapping_id]


@pytest.fixture(scope="module")
def csv_mapping() -> Mapping:
    return mapping_of(CSV_ID)


def variants(mapping: Mapping) -> st.SearchStrategy[Mapping]:
    """The mapping as it is, or with its framing changed the way another export differs."""
    source = mapping.source
    changes = [
        {},
        {"newline": b"\n"},
        {"quote": None},
        {"delimiter": b"\t"},
        {"encoding": "euc_jp"},
        {"encoding": "utf-8"},
        {"eof_marker": 0x1A},
        {"newline": b"\n", "eof_marker": 0x1A, "encoding": "utf-8"},
    ]
    return st.sampled_from(changes).map(lambda c: replace(mapping, source=replace(source, **c)))


CELL_BYTES = st.sampled_from([b"D", b"T", b"1", b"0", b" ", b",", b'"', b'""', b"\t", b"\r",
                              b"\n", b"\r\n", b"\x1a", b"\xef\xbb\xbf", b"\x82\xa0", b"\x81",
                              b"\x8e", b"\xa4\xa2", b"\xe3\x81\x82", b"\xff", b"5060401",
                              b"123456789012345678"])


@st.composite
def csv_files(draw: st.DrawFn, mapping: Mapping) -> bytes:
    """The mapping's own header line (often) and lines of cells that look like its data, made
    of bytes that matter to framing and decoding; sometimes plain arbitrary bytes."""
    source = mapping.source
    if draw(st.integers(0, 5)) == 0:
        return draw(st.binary(max_size=120))
    nl, sep = source.newline, source.delimiter
    lines = []
    if source.header_line and draw(st.integers(0, 4)):
        names = ["レコード区分", "宛名番号", "国保世帯番号", "氏名", "氏名英字", "住登外区分", "枝番",
                 "資格取得日", "取得事由", "資格喪失日", "喪失事由", "届出日", "一般退職区分",
                 "介護2号", "特例区分", "団体コード"]
        lines.append(sep.join(n.encode(source.encoding, "replace") for n in names))
    for _ in range(draw(st.integers(0, 8))):
        cells = draw(st.lists(st.lists(CELL_BYTES, max_size=4).map(b"".join), max_size=18))
        if source.quote and cells and draw(st.booleans()):
            q = source.quote
            i = draw(st.integers(0, len(cells) - 1))
            cells[i] = q + cells[i].replace(q, q + q) + q
        lines.append(sep.join(cells))
    body = nl.join(lines) + (nl if lines and draw(st.booleans()) else b"")
    if body and draw(st.integers(0, 3)) == 0:
        at = draw(st.integers(0, len(body)))
        body = body[:at] + draw(CELL_BYTES) + body[at:]
    return body


def read_everything(path: Path, mapping: Mapping, chunk_bytes: int):
    reader = open_reader(path, mapping, chunk_bytes)
    reader.header_record()
    return reader, list(reader.chunks())


def check_chunks(reader, chunks, children: int) -> None:
    """Every record once, in order, each with a valid kind (a header line first)."""
    numbers = np.concatenate([c.record_numbers for c in chunks]) if chunks else np.array([])
    assert numbers.tolist() == list(range(1, reader.n_records + 1))
    for chunk in chunks:
        assert chunk.records.dtype == np.uint8 and len(chunk.kinds) == len(chunk.records)
    if chunks:
        kinds = np.concatenate([c.kinds for c in chunks])
        assert set(kinds.tolist()) <= {DATA, HEADER, TRAILER, UNKNOWN,
                                       *range(CHILD, CHILD + children)}
        if getattr(reader, "header_line", False):
            assert kinds[0] == HEADER


def refused_properly(error: MigrateError, path: Path) -> None:
    assert isinstance(error, InputFormatError), error
    assert error.file == path and str(error)


def read_or_refuse(body: bytes, name: str, mapping, chunk_bytes: int):
    """(reader, chunks) of `body` written to a file, or None when the reader refused it —
    and then only with the project's own error naming that file."""
    with tempfile.TemporaryDirectory(prefix="migrate-fuzz-") as folder:
        path = Path(folder) / name
        path.write_bytes(body)
        try:
            return read_everything(path, mapping, chunk_bytes)
        except MigrateError as error:
            refused_properly(error, path)
            return None


@fuzz_settings()
@given(st.data(), st.integers(1, 200))
def test_fuzz_csv_is_framed_or_refused(csv_mapping, data, chunk_bytes: int) -> None:
    mapping = data.draw(variants(csv_mapping))
    body = data.draw(csv_files(mapping))
    note(f"source: {mapping.source}")
    read = read_or_refuse(body, "in.csv", mapping, chunk_bytes)
    if read is None:
        return
    reader, chunks = read
    check_chunks(reader, chunks, 0)
    width = mapping.source.record_length
    assert all(c.records.shape[1] == width for c in chunks)


@pytest.mark.parametrize("mapping_id", list_bundled_mappings())
@fuzz_settings("medium")
@given(data=st.data(), chunk_bytes=st.integers(1, 2000))
def test_fuzz_open_reader_takes_any_bytes(mapping_id: str, data, chunk_bytes: int) -> None:
    """Every bundled mapping's reader, on arbitrary bytes: of any size, or (fixed-width) a
    whole number of records whose line breaks and first type code are often right, so that
    the bytes get past the size check."""
    mapping = mapping_of(mapping_id)
    source = mapping.source
    body = data.draw(st.binary(max_size=600))
    if not source.delimited and data.draw(st.booleans()):
        records = data.draw(st.integers(1, 4))
        body = bytearray(data.draw(st.binary(min_size=records * source.stride,
                                             max_size=records * source.stride)))
        rt = source.record_types
        for start in range(0, len(body), source.stride):
            if source.newline and data.draw(st.integers(0, 4)):
                body[start + source.record_length:start + source.stride] = source.newline
            if rt is not None and rt.header and start == 0 and data.draw(st.booleans()):
                body[rt.offset:rt.offset + rt.length] = rt.header.encode("ascii")
        body = bytes(body)
    read = read_or_refuse(body, "in.dat", mapping, chunk_bytes)
    if read is None:
        return
    reader, chunks = read
    rt = source.record_types
    check_chunks(reader, chunks, len(rt.children) if rt else 0)
