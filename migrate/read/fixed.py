"""Byte-exact fixed-width reader: frames records, checks the framing, classifies record types.

It knows nothing of fields or validation. It yields chunks of records as a numpy
(n_records, record_length) uint8 array plus each record's kind and 1-based record number, so
later stages slice fields as columns without a Python loop per record.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from migrate.errors import InputFormatError, UsageError
from migrate.layouts import SourceSpec

DATA, HEADER, TRAILER, UNKNOWN, END, IGNORE = 0, 1, 2, 3, 4, 5
CHILD = 6  # child record types (multi-record layouts) are CHILD, CHILD + 1, … in mapping order
KIND_NAMES = {DATA: "data", HEADER: "header", TRAILER: "trailer", UNKNOWN: "unknown",
              END: "end", IGNORE: "ignore"}
ROLE_KINDS = {"data": DATA, "header": HEADER, "trailer": TRAILER, "end": END, "ignore": IGNORE}


def kind_of_code(source: SourceSpec) -> dict[str, int]:
    """Record-type code → kind: every role's codes and the child record types."""
    rt = source.record_types
    if rt is None:
        return {}
    kinds = {code: ROLE_KINDS[role] for code, role in rt.code_roles()}
    kinds.update({code: CHILD + i for i, (code, _) in enumerate(rt.children)})
    return kinds


def kind_names(source: SourceSpec) -> dict[int, str]:
    """Kind number → name, child record types included (by their name in the mapping)."""
    names = dict(KIND_NAMES)
    if source.record_types:
        for i, (_, name) in enumerate(source.record_types.children):
            names[CHILD + i] = name
    return names
DEFAULT_CHUNK_BYTES = 32 * 1024 * 1024


def unreadable(path: Path, error: OSError) -> UsageError:
    """The error for an input that cannot be read (permissions, a failing disk or a share gone
    away): the environment, not a bug, so exit 2 with the system's words and what to do."""
    return UsageError(
        "the input file {path} cannot be read: {reason}",
        {"path": path, "reason": error.strerror or type(error).__name__}, file=path,
        hint="Check that this user may read the file (its owner and permissions) and that "
             "its disk or network share is still there; or copy the export to a local "
             "folder.")


@contextmanager
def _reading(path: Path) -> Iterator[None]:
    """Reads of the input inside this block fail as `unreadable`, never as a bare OSError."""
    try:
        yield
    except OSError as error:
        raise unreadable(path, error) from error


@dataclass(frozen=True)
class RecordChunk:
    """A run of consecutive records from the file."""

    first_record: int          # 1-based record number of row 0
    records: np.ndarray        # (n, record_length) uint8, newline removed
    kinds: np.ndarray          # (n,) int8: DATA / HEADER / TRAILER / UNKNOWN
    stride: int                # bytes per record on disk (0 for delimited sources)
    # Delimited sources only: `records` is then a synthetic fixed-width matrix (each field's
    # cell padded with spaces into its slot), and these say where things really are.
    record_offsets: np.ndarray | None = None  # (n,) int64 file offset of each line
    cell_offsets: np.ndarray | None = None    # (n, k) int64 file offset of each slot's cell
    too_long: np.ndarray | None = None        # (n, k) bool: cell longer than its slot
    missing: np.ndarray | None = None         # (n, k) bool: the line has no such column

    @property
    def record_numbers(self) -> np.ndarray:
        return np.arange(self.first_record, self.first_record + len(self.records), dtype=np.int64)

    def byte_offsets(self) -> np.ndarray:
        """File offset of each record's first byte."""
        if self.record_offsets is not None:
            return self.record_offsets
        return (self.record_numbers - 1) * self.stride


class FixedWidthReader:
    """Open a legacy file against its SourceSpec; framing errors surface before any output."""

    def __init__(self, path: Path, source: SourceSpec, chunk_bytes: int = DEFAULT_CHUNK_BYTES):
        self.path = Path(path)
        self.source = source
        if not self.path.is_file():
            raise UsageError("the input file {path} does not exist", {"path": self.path},
                             hint="Check the path; give the legacy export file itself, "
                                  "not its folder.")
        with _reading(self.path):
            self.file_size = self.path.stat().st_size
        self.stride = source.stride
        self.chunk_records = max(1, chunk_bytes // self.stride)
        self.data_size = self._data_size()
        self.n_records = self.data_size // self.stride
        self._check_framing()

    # ------------------------------------------------------------------ framing checks

    def _data_size(self) -> int:
        size = self.file_size
        if size and self.source.eof_marker is not None:
            with _reading(self.path), open(self.path, "rb") as handle:
                handle.seek(size - 1)
                if handle.read(1)[0] == self.source.eof_marker:
                    size -= 1
        return size

    def _first_newline(self) -> int | None:
        with _reading(self.path), open(self.path, "rb") as handle:
            head = handle.read(min(self.file_size, 1 << 16))
        position = head.find(b"\n")
        if position < 0:
            return None
        return position - 1 if position > 0 and head[position - 1] == 0x0D else position

    def _check_framing(self) -> None:
        if self.data_size == 0:
            raise InputFormatError("the input file {path} is empty", {"path": self.path},
                                   file=self.path, hint="Export the data again from the old "
                                                        "system; the file has no records.")
        if self.data_size % self.stride:
            self._size_error()
        rt = self.source.record_types
        if rt and rt.header:
            first = self._record(1)
            if self._kind_of(first) not in (HEADER, IGNORE):
                raise InputFormatError(
                    "the first record is not a header record (type '{code}')",
                    {"code": rt.header}, file=self.path, record=1,
                    offset=0, hint="The file may be cut at the start or be another export.")

    def _size_error(self) -> None:
        """The file is not a whole number of records: say what the leftover bytes are — an
        EOF byte the mapping does not declare, a record whose line break is missing, a wrong
        record_length (with the lengths that would divide the file), or a last record cut
        short."""
        length, nl, stride = self.source.record_length, len(self.source.newline), self.stride
        rest = self.data_size % stride
        params = {"size": self.data_size, "stride": stride, "rest": rest}
        hint_params: dict[str, object] = {"stride": stride, "length": length, "nl": nl,
                                          "rest": rest}
        with _reading(self.path), open(self.path, "rb") as handle:
            tail = os.pread(handle.fileno(), rest, self.data_size - rest)
        if rest == 1 and tail == b"\x1a" and self.source.eof_marker is None:
            raise InputFormatError(
                "the file size {size} bytes is not a whole number of {stride}-byte records "
                "({rest} bytes left over)", params, file=self.path,
                offset=self.data_size - 1,
                hint="The byte left over is 0x1A, the MS-DOS end-of-file mark after the last "
                     "record: add eof_marker: 0x1a to the mapping's source.")
        guess = self._first_newline()
        if nl and guess == length:
            bad = self._first_bad_newline()
            if bad is not None:
                raise InputFormatError(
                    "record {record} does not end with the expected line break",
                    {"record": bad}, file=self.path, record=bad,
                    offset=(bad - 1) * stride + length,
                    hint="Every record before it is {length} bytes and a line break; this one "
                         "is not (a line break missing, or a record shortened or lengthened by "
                         "an editor or a transfer). Export the file again.",
                    hint_params=hint_params)
        divisors = ", ".join(str(n) for n in self._dividing_lengths()) or "—"
        hint_params["lengths"] = divisors
        if guess is not None and nl and guess != length:
            hint_params["guess"] = guess
            hint = ("Each record must be {length} bytes plus {nl} newline byte(s) = {stride} "
                    "bytes, but the first line of the file is {guess} bytes long: is this the "
                    "right mapping for this file? Record lengths that would divide the file "
                    "exactly: {lengths}.")
        elif nl:
            hint = ("The last record has {rest} of {stride} bytes: the file may be cut short. "
                    "Export it again.")
        else:
            hint = ("The last record has {rest} of {stride} bytes: the file may be cut short, "
                    "or record_length is wrong. Record lengths that would divide the file "
                    "exactly: {lengths}.")
        raise InputFormatError(
            "the file size {size} bytes is not a whole number of {stride}-byte records "
            "({rest} bytes left over)", params, file=self.path, hint=hint,
            hint_params=hint_params)

    def _first_bad_newline(self, block_records: int = 1 << 14) -> int | None:
        """The number of the first record not followed by the declared line break (read in
        blocks: only on the way to an error)."""
        length, stride = self.source.record_length, self.stride
        newline = np.frombuffer(self.source.newline, dtype=np.uint8)
        whole = self.data_size // stride
        with _reading(self.path), open(self.path, "rb") as handle:
            for first in range(0, whole, block_records):
                n = min(block_records, whole - first)
                block = np.frombuffer(os.pread(handle.fileno(), n * stride, first * stride),
                                      dtype=np.uint8).reshape(n, stride)
                bad = np.flatnonzero((block[:, length:] != newline).any(axis=1))
                if len(bad):
                    return first + int(bad[0]) + 1
        return None

    def _dividing_lengths(self, most: int = 5) -> list[int]:
        """Record lengths (newline excluded) that divide the file exactly, nearest first."""
        nl, length = len(self.source.newline), self.source.record_length
        top = min(max(2 * length, 64), 1 << 16)
        found = [n for n in range(1, top + 1) if self.data_size % (n + nl) == 0]
        return sorted(found, key=lambda n: (abs(n - length), n))[:most]

    def _record(self, number: int) -> bytes:
        with _reading(self.path), open(self.path, "rb") as handle:
            handle.seek((number - 1) * self.stride)
            return handle.read(self.source.record_length)

    def _kind_of(self, record: bytes) -> int:
        rt = self.source.record_types
        if rt is None:
            return DATA
        code = record[rt.offset:rt.offset + rt.length].decode("ascii", "replace")
        return kind_of_code(self.source).get(code, UNKNOWN)

    def header_record(self) -> bytes | None:
        """The first record's bytes when it is a header record (its fields fill columns)."""
        rt = self.source.record_types
        if not rt or not rt.header:
            return None
        first = self._record(1)
        return first if self._kind_of(first) == HEADER else None

    # ------------------------------------------------------------------ streaming

    def plan(self) -> list[tuple[int, int]]:
        """(first record, record count) of every chunk; fixed by chunk size, not by workers.

        With child record types a chunk never starts on a child record, so a parent and the
        records that belong to it are always mapped together."""
        starts = list(range(1, self.n_records + 1, self.chunk_records))
        rt = self.source.record_types
        if rt and rt.children:
            starts = sorted({1, *(self._next_non_child(s) for s in starts[1:])}
                            - {self.n_records + 1})
        ends = [*starts[1:], self.n_records + 1]
        return [(first, end - first) for first, end in zip(starts, ends, strict=True)]

    def _next_non_child(self, number: int) -> int:
        while number <= self.n_records and self._kind_of(self._record(number)) >= CHILD:
            number += 1
        return number

    def read_chunk(self, first_record: int, n: int, *_where: int) -> RecordChunk:
        """Read and frame-check one chunk; any process can call this (workers read for themselves)."""
        length = self.source.record_length
        with _reading(self.path), open(self.path, "rb") as handle:
            block = os.pread(handle.fileno(), n * self.stride, (first_record - 1) * self.stride)
        if len(block) != n * self.stride:
            raise InputFormatError("the file changed while it was being read",
                                   file=self.path, hint="Copy the export to a local "
                                                        "folder and run again.")
        rows = np.frombuffer(block, dtype=np.uint8).reshape(n, self.stride)
        newline = np.frombuffer(self.source.newline, dtype=np.uint8)
        if len(newline):
            bad = np.flatnonzero((rows[:, length:] != newline).any(axis=1))
            if len(bad):
                number = first_record + int(bad[0])
                raise InputFormatError(
                    "record {record} does not end with the expected line break",
                    {"record": number}, file=self.path, record=number,
                    offset=(number - 1) * self.stride + length,
                    hint="Records must all be {length} bytes long. A shorter or longer "
                         "record (e.g. trailing spaces trimmed by a tool) breaks the "
                         "layout; export the file again or fix record_length.",
                    hint_params={"length": length})
        records = rows[:, :length]
        return RecordChunk(first_record, records, self._kinds(records, first_record), self.stride)

    def chunks(self) -> Iterator[RecordChunk]:
        """Yield consecutive record chunks in file order."""
        for first, n in self.plan():
            yield self.read_chunk(first, n)

    def _kinds(self, records: np.ndarray, first_record: int) -> np.ndarray:
        rt = self.source.record_types
        kinds = np.full(len(records), DATA if rt is None else UNKNOWN, dtype=np.int8)
        if rt is None:
            return kinds
        codes = records[:, rt.offset:rt.offset + rt.length]
        # Kinds by code only: whether a header or trailer stands where it may is the run's
        # framing check (migrate.reconcile.framing), which sees the records in order.
        for code, kind in kind_of_code(self.source).items():
            pattern = np.frombuffer(code.encode("ascii"), dtype=np.uint8)
            kinds[(codes == pattern).all(axis=1)] = kind
        return kinds


def file_sha256(path: Path, block: int = 1 << 22) -> str:
    """SHA-256 of a whole file, streamed."""
    digest = hashlib.sha256()
    with _reading(path), open(path, "rb") as handle:
        while data := handle.read(block):
            digest.update(data)
    return digest.hexdigest()
