"""The byte-exact reader: framing checks, record kinds, record numbers, chunking, EOF byte; and
any file (fuzz) is framed exactly or refused with an InputFormatError, never a crash."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from fuzz.budget import fuzz_settings
from hypothesis import given, note
from hypothesis import strategies as st

from migrate.errors import InputFormatError, MigrateError, UsageError
from migrate.layouts import RecordTypes
from migrate.read.fixed import (
    CHILD,
    DATA,
    HEADER,
    TRAILER,
    UNKNOWN,
    FixedWidthReader,
    kind_of_code,
)


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


def test_kinds_are_by_code_wherever_the_record_stands(tmp_path, juki_mapping):
    """A header code in the middle is a header record: the run's framing check (not the
    reader) says that it is out of place, with its record number."""
    body = record(b"1") + record(b"2") + record(b"1") + record(b"9")
    reader = FixedWidthReader(write(tmp_path, body), juki_mapping.source)
    kinds = next(reader.chunks()).kinds
    assert list(kinds) == [HEADER, DATA, HEADER, TRAILER]


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


# ---------------------------------------------------------------- fuzz: any file


@st.composite
def framings(draw: st.DrawFn, base) -> object:
    """A small source framing: record length, newline, EOF byte, record types (with children)."""
    length = draw(st.integers(1, 12))
    rt = None
    if draw(st.booleans()):
        code_length = draw(st.integers(1, min(2, length)))
        codes = draw(st.lists(st.text("129378AZ", min_size=code_length, max_size=code_length),
                              min_size=4, max_size=4, unique=True))
        rt = RecordTypes(offset=draw(st.integers(0, length - code_length)), length=code_length,
                         data=codes[0], header=draw(st.sampled_from([codes[1], None])),
                         trailer=draw(st.sampled_from([codes[2], None])),
                         children=draw(st.sampled_from([(), ((codes[3], "child"),)])))
    return replace(base, record_length=length,
                   newline=draw(st.sampled_from([b"\r\n", b"\n", b""])),
                   eof_marker=draw(st.sampled_from([None, 0x1A])), record_types=rt)


@st.composite
def files(draw: st.DrawFn, source) -> bytes:
    """Arbitrary bytes, or records of the framing (codes mostly right) with some damage."""
    if draw(st.integers(0, 4)) == 0:
        return draw(st.binary(max_size=80))
    rt = source.record_types
    codes = [c for c in (rt.header, rt.data, rt.trailer, *(c for c, _ in rt.children))
             if c] if rt else []
    records = []
    for _ in range(draw(st.integers(0, 12))):
        body = bytearray(draw(st.binary(min_size=source.record_length,
                                        max_size=source.record_length)))
        if codes:
            code = draw(st.sampled_from(codes)).encode("ascii")
            body[rt.offset:rt.offset + rt.length] = code
        records.append(bytes(body) + source.newline)
    body = b"".join(records)
    if body and draw(st.integers(0, 3)) == 0:  # damage: a byte changed, added or removed
        at = draw(st.integers(0, len(body) - 1))
        body = draw(st.sampled_from([body[:at] + b"\n" + body[at + 1:], body[:at] + body[at + 1:],
                                     body[:at] + b"\r" + body[at:]]))
    if draw(st.booleans()):
        body += b"\x1a"
    return body


@fuzz_settings()
@given(st.data(), st.integers(1, 64))
def test_fuzz_any_file_is_framed_or_refused(juki_mapping, data, chunk_bytes: int) -> None:
    """Whatever the bytes: the reader refuses them with the project's own error, or frames
    them exactly (every record once, in order, byte for byte, with a valid kind)."""
    source = data.draw(framings(juki_mapping.source))
    body = data.draw(files(source))
    note(f"{source.record_length=} {source.newline=} {source.eof_marker=} {source.record_types=}")
    with tempfile.TemporaryDirectory(prefix="migrate-fuzz-") as folder:
        path = Path(folder) / "in.dat"
        path.write_bytes(body)
        try:
            reader = FixedWidthReader(path, source, chunk_bytes=chunk_bytes)
            reader.header_record()
            chunks = list(reader.chunks())
        except MigrateError as error:
            assert isinstance(error, InputFormatError), error
            assert error.file == path and str(error)
            return
    size = len(body) - (body.endswith(b"\x1a") and source.eof_marker == 0x1A)
    assert reader.n_records * source.stride == size
    numbers = np.concatenate([c.record_numbers for c in chunks]) if chunks else []
    assert list(numbers) == list(range(1, reader.n_records + 1))
    if chunks:
        records = np.concatenate([c.records for c in chunks])
        framed = np.frombuffer(body[:size], np.uint8).reshape(-1, source.stride)
        assert np.array_equal(records, framed[:, :source.record_length])
        kinds = np.concatenate([c.kinds for c in chunks])
        children = len(source.record_types.children) if source.record_types else 0
        assert set(kinds.tolist()) <= {DATA, HEADER, TRAILER, UNKNOWN,
                                       *range(CHILD, CHILD + children)}
        rt = source.record_types
        if rt is not None:  # each record's kind is its code's, wherever it stands
            codes = [bytes(r[rt.offset:rt.offset + rt.length]).decode("ascii", "replace")
                     for r in records]
            assert kinds.tolist() == [kind_of_code(source).get(c, UNKNOWN) for c in codes]


def test_unreadable_input_is_a_usage_error(tmp_path, juki_mapping, monkeypatch):
    """Regression: an input the user may not read (PermissionError) ended in exit 3 "internal
    error"; open_reader now refuses it with a UsageError naming the file and the cause, for
    both kinds of reader."""
    import builtins

    from migrate.layouts import load_mapping
    from migrate.read import open_reader

    csv_mapping = load_mapping("vendor_a/kokuho")
    path = write(tmp_path, record(b"1") + record(b"9"))
    real_open = builtins.open

    def refuse(file, *args, **kwargs):
        if isinstance(file, str | Path) and Path(file) == path:
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", refuse)
    for mapping in (juki_mapping, csv_mapping):
        with pytest.raises(UsageError) as info:
            open_reader(path, mapping, 1 << 20)
        assert info.value.file == path and "Permission denied" in str(info.value)


def test_read_error_in_the_middle_of_a_run_is_a_usage_error(tmp_path, juki_mapping,
                                                             monkeypatch):
    """Regression: a read that fails after the file was opened (EIO on a failing disk or a
    share gone away) reached the CLI as a bare OSError (exit 3); it is the same UsageError as
    an unreadable file, for a chunk and for the input's hash."""
    import errno

    import migrate.read.fixed as fixed

    path = write(tmp_path, record(b"1") + record(b"2") + record(b"9"))
    reader = FixedWidthReader(path, juki_mapping.source)

    def fail(*args, **kwargs):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(fixed.os, "pread", fail)
    with pytest.raises(UsageError) as info:
        reader.read_chunk(1, 3)
    assert info.value.file == path and "Input/output error" in str(info.value)
    monkeypatch.setattr(fixed, "open", fail, raising=False)
    with pytest.raises(UsageError):
        fixed.file_sha256(path)


def test_size_error_says_what_the_leftover_bytes_are(tmp_path, juki_mapping):
    """A last record cut short, a missing line break (named by its record number) and a
    wrong record_length (with the lengths that would divide the file)."""
    whole = record(b"1") + record(b"2") + record(b"9")
    with pytest.raises(InputFormatError) as info:
        FixedWidthReader(write(tmp_path, whole + record(b"2")[:99]), juki_mapping.source)
    assert "the last record has 99 of 432 bytes: the file may be cut short" in \
        str(info.value).lower()
    broken = record(b"1") + record(b"2")[:-2] + record(b"2") + record(b"9")
    with pytest.raises(InputFormatError) as info:
        FixedWidthReader(write(tmp_path, broken), juki_mapping.source)
    assert info.value.record == 2 and "line break" in str(info.value)
    lines = b"".join(b"2" + b" " * 399 + b"\r\n" for _ in range(6))  # 400-byte records
    with pytest.raises(InputFormatError) as info:
        FixedWidthReader(write(tmp_path, b"1" + b" " * 399 + b"\r\n" + lines),
                         juki_mapping.source)
    assert "first line of the file is 400 bytes" in str(info.value)
    assert "400" in info.value.hint_params["lengths"].split(", ")
