"""Byte-level reader for delimited legacy exports (CSV / TSV in cp932, EUC-JP or UTF-8).

The framing bytes (delimiter, quote, CR, LF) are all below 0x40, so they can never be part of
a cp932 double-byte character (trail bytes are 0x40–0xFC) nor of an EUC-JP / UTF-8 one (all
bytes >= 0x80). The lines and cells are therefore found on the raw bytes, without decoding,
with numpy: a delimiter or LF is structural when an even number of quote bytes precedes it
(quote parity). Each line becomes a synthetic fixed-width row — every slot's cell copied
left-aligned into a row of spaces — so the later stages treat it like a fixed-width record
(see migrate.read.fixed.RecordChunk).

Scanning the file once (in __init__) counts the lines, checks the quoting and the line
breaks, and records chunk boundaries at structural line breaks, so workers can read any chunk
on their own and a quoted line break is never cut.
"""

from __future__ import annotations

import codecs
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from migrate.errors import InputFormatError, UsageError
from migrate.read.fixed import CHILD, DATA, HEADER, UNKNOWN, RecordChunk

DEFAULT_CHUNK_BYTES = 32 * 1024 * 1024
SCAN_BLOCK_BYTES = 16 * 1024 * 1024
MAX_LINE_BYTES = 64 * 1024 * 1024  # a longer "line" means a stray quote or a wrong newline
LF, CR, SPACE = 0x0A, 0x0D, 0x20
UTF8_BOM = b"\xef\xbb\xbf"
_SJIS = {"cp932", "shift_jis", "shift_jis_2004", "shift_jisx0213"}


@lru_cache(maxsize=64)
def _masks(length: int) -> tuple[np.ndarray, np.ndarray]:
    """Row t of `keep` is t bytes of 0xFF then zeros; row t of `pad` is t zeros then spaces."""
    keep = np.tril(np.full((length + 1, length), 0xFF, dtype=np.uint8), -1)
    return keep, ~keep & SPACE


@dataclass(frozen=True)
class Slot:
    """One cell of a line copied into the synthetic fixed-width row."""

    column: int   # 0-based column index in the line
    offset: int   # where the cell goes in the synthetic row
    length: int   # max bytes of the cell (quotes removed, "" unescaped)


@dataclass
class _Cells:
    """Structural separators of a run of whole lines (positions local to the run).

    Only the separators are kept; the bounds of a cell are computed for the cells a slot
    needs (see `bounds`), so the full-length arrays stay few."""

    a: np.ndarray            # the run's bytes
    sep: np.ndarray          # -1, every structural delimiter / LF, then len(a) if open_end
    cum: np.ndarray          # quote bytes before each entry of sep
    last: np.ndarray         # (lines,) index in sep of each line's terminating LF
    open_end: bool           # the last line has no line break (the run ends inside it)
    qpos: np.ndarray         # positions of all quote bytes
    crlf: bool

    @property
    def first(self) -> np.ndarray:
        """(lines,) index in sep of each line's first cell."""
        first = np.empty_like(self.last)
        if len(first):
            first[0] = 1
            first[1:] = self.last[:-1] + 1
        return first

    def line_starts(self) -> np.ndarray:
        return self.sep[self.first - 1] + 1

    def bounds(self, first: np.ndarray, last: np.ndarray, column: int
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(present, start, end, quote count) of one column in the given lines; a missing
        cell is the empty span at its line's end. `end` excludes the CR of a CRLF."""
        present = last - first >= column
        everywhere = bool(present.all())
        j = first + column if everywhere else np.where(present, first + column, last)
        start = self.sep[j - 1] + 1
        end = self.sep[j]
        if self.crlf:
            rows = np.flatnonzero(j == last)
            if len(rows):
                ends = end[rows]
                strip = (ends < len(self.a)) & (ends > start[rows])
                strip &= self.a[np.maximum(ends - 1, 0)] == CR
                end[rows] = ends - strip
        if not everywhere:
            start = np.where(present, start, end)
        if len(self.qpos):
            quotes = self.cum[j] - self.cum[j - 1]
            if not everywhere:
                quotes[~present] = 0
        else:
            quotes = np.zeros(len(j), dtype=np.int64)
        return present, start, end, quotes


class DelimitedReader:
    """Frame a delimited export once (line count, chunk plan, quoting), then read chunks.

    Framing errors (empty file, unterminated quote, stray quote, wrong line break) are raised
    by the constructor, before any output, as InputFormatError.
    """

    def __init__(self, path: Path, *, delimiter: bytes, quote: bytes | None, newline: bytes,
                 header_line: bool, eof_marker: int | None, slots: Sequence[Slot], width: int,
                 record_type: tuple[int, dict[bytes, int]] | None,
                 encoding: str = "cp932", chunk_bytes: int = DEFAULT_CHUNK_BYTES,
                 scan_block_bytes: int = SCAN_BLOCK_BYTES) -> None:
        self.path = Path(path)
        self.encoding = codecs.lookup(encoding).name
        limit = 0x40 if self.encoding in _SJIS else 0x80
        for name, value in (("delimiter", delimiter), ("quote", quote)):
            if value is not None and (len(value) != 1 or value[0] >= limit
                                      or value in (b"\r", b"\n")):
                raise ValueError(f"{name} {value!r} cannot frame {self.encoding} text")
        if delimiter == quote:
            raise ValueError("the delimiter cannot be the quote")
        if newline not in (b"\r\n", b"\n"):
            raise ValueError(f"newline must be CRLF or LF, not {newline!r}")
        for slot in slots:
            if slot.column < 0 or slot.length < 1 or slot.offset < 0 \
                    or slot.offset + slot.length > width:
                raise ValueError(f"{slot} does not fit a {width}-byte row")
        if record_type is not None and not 0 <= record_type[0] < len(slots):
            raise ValueError(f"record type slot {record_type[0]} is not one of the slots")
        self.delimiter = delimiter[0]
        self.quote = quote[0] if quote else None
        self.newline = newline
        self.crlf = newline == b"\r\n"
        self.header_line = header_line
        self.eof_marker = eof_marker
        self.slots = tuple(slots)
        self.width = width
        self.record_type = record_type
        self.chunk_bytes = max(1, chunk_bytes)
        self._scan_block = max(1, scan_block_bytes)
        self._max_slot = max((s.length for s in self.slots), default=1)

        if not self.path.is_file():
            raise UsageError("the input file {path} does not exist", {"path": self.path},
                             hint="Check the path; give the legacy export file itself, "
                                  "not its folder.")
        self.file_size = self.path.stat().st_size
        self.data_start, self.data_end = self._data_bounds()
        if self.data_end <= self.data_start:
            raise InputFormatError("the input file {path} is empty", {"path": self.path},
                                   file=self.path, hint="Export the data again from the old "
                                                        "system; the file has no records.")
        self.n_records = 0
        self._first_line_end = self.data_end
        self._last_line_start = self.data_start
        self._plan = self._scan()
        if self.record_type is not None and any(k >= CHILD for k in self.record_type[1].values()):
            self._plan = self._keep_children_with_parents(self._plan)
        self.header_names: list[str] | None = self._header_names() if header_line else None

    def use_columns(self, columns: dict[int, int]) -> None:
        """Point some slots at other columns: fields found by their header-line name are
        resolved with `header_names` once the file is open."""
        self.slots = tuple(replace(slot, column=columns.get(i, slot.column))
                           for i, slot in enumerate(self.slots))

    # ------------------------------------------------------------------ framing scan

    def _data_bounds(self) -> tuple[int, int]:
        """Skip a UTF-8 byte order mark (UTF-8 only) and the EOF marker byte."""
        start, end = 0, self.file_size
        with open(self.path, "rb") as handle:
            head = handle.read(3)
            if self.encoding in ("utf-8", "utf-8-sig") and head == UTF8_BOM:
                start = 3
            if end > start and self.eof_marker is not None:
                handle.seek(end - 1)
                if handle.read(1)[0] == self.eof_marker:
                    end -= 1
        return start, end

    def _scan(self) -> list[tuple[int, int, int, int]]:
        """One pass in blocks: count lines, check framing, cut chunks at structural breaks.

        The unfinished last line of a block is carried into the next one, so every block
        starts at a line start with even quote parity; memory stays one block plus one line."""
        plan: list[tuple[int, int, int, int]] = []
        lines = 0                       # complete lines seen so far
        chunk_start, chunk_first = self.data_start, 1
        carry, carry_at = b"", self.data_start
        first_end_known = False
        next_line = last_whole = self.data_start   # start of the line after / of the last whole
        with open(self.path, "rb") as handle:
            handle.seek(self.data_start)
            pos = self.data_start
            while True:
                data = handle.read(min(self._scan_block, self.data_end - pos))
                pos += len(data)
                final = pos >= self.data_end or not data
                buf = carry + data if carry else data
                a = np.frombuffer(buf, dtype=np.uint8)
                ends = self._scan_piece(a, carry_at, lines, final)   # structural LF positions
                cut = 0
                if len(ends):
                    cut = int(ends[-1]) + 1
                    line_ends = ends.astype(np.int64) + (carry_at + 1)
                    if not first_end_known:
                        self._first_line_end, first_end_known = int(line_ends[0]), True
                    last_whole = int(line_ends[-2]) if len(line_ends) > 1 else next_line
                    next_line = int(line_ends[-1])
                    while True:
                        i = int(np.searchsorted(line_ends, chunk_start + self.chunk_bytes))
                        if i >= len(line_ends):
                            break
                        count = lines + i + 1 - (chunk_first - 1)
                        end = int(line_ends[i])
                        plan.append((chunk_first, count, chunk_start, end - chunk_start))
                        chunk_first, chunk_start = chunk_first + count, end
                    lines += len(ends)
                if final:
                    if cut < len(a):            # the last line has no line break
                        lines += 1
                        last_whole = next_line
                        if not first_end_known:
                            self._first_line_end = self.data_end
                    self._last_line_start = last_whole
                    break
                carry, carry_at = buf[cut:], carry_at + cut
                if len(carry) > MAX_LINE_BYTES:
                    self._too_long_line(np.frombuffer(carry, dtype=np.uint8), carry_at, lines)
        if lines >= chunk_first:
            plan.append((chunk_first, lines - chunk_first + 1, chunk_start,
                         self.data_end - chunk_start))
        self.n_records = lines
        return plan

    def _scan_piece(self, a: np.ndarray, base: int, lines: int, final: bool) -> np.ndarray:
        """Structural LF positions of a run that starts at a line start; checks its framing."""
        if self.quote is None:
            nl = np.flatnonzero(a == LF)
            qpos = nl[:0]
        else:
            events = np.flatnonzero((a == LF) | (a == self.quote))
            is_q = a[events] == self.quote
            if is_q.any():
                parity = np.cumsum(is_q, dtype=np.uint8) & 1
                nl = events[~is_q & (parity == 0)]
                qpos = events[is_q]
            else:
                nl, qpos = events, events[:0]
        cut = len(a) if final else (int(nl[-1]) + 1 if len(nl) else 0)
        if len(qpos):
            checked = qpos if final else qpos[:np.searchsorted(qpos, cut)]
            self._check_quotes(a, checked, nl, base, lines, final)
            if final and len(qpos) % 2:
                self._unterminated(int(qpos[-1]), nl, base, lines)
        self._check_newlines(a, nl, base, lines)
        return nl

    def _check_quotes(self, a: np.ndarray, qpos: np.ndarray, nl: np.ndarray, base: int,
                      lines: int, final: bool) -> None:
        """Every quote opens a cell, closes it, or is half of a doubled "" inside one."""
        q, n = self.quote, len(a)
        opening, closing = qpos[0::2], qpos[1::2]
        before = a[np.maximum(opening - 1, 0)]
        ok_open = (opening == 0) | (before == self.delimiter) | (before == LF) | (before == q)
        after_at = np.minimum(closing + 1, n - 1)
        after = a[after_at]
        ok_close = (after == self.delimiter) | (after == LF) | (after == q)
        if final:
            ok_close |= closing + 1 == n
        if self.crlf:
            ok_close |= (after == CR) & (a[np.minimum(closing + 2, n - 1)] == LF) \
                & (closing + 2 < n)
        bad = np.concatenate([opening[~ok_open], closing[~ok_close]])
        if len(bad):
            where = int(bad.min())
            record = lines + int(np.searchsorted(nl, where)) + 1
            raise InputFormatError(
                "a quote character {quote} is in the middle of a cell",
                {"quote": chr(q)}, file=self.path, record=record, offset=base + where,
                hint="In a quoted cell every {quote} inside must be doubled ({quote}{quote}), "
                     "and a cell with a {quote} in it must itself be quoted. Fix the export, "
                     "or set quote: null in the mapping if the file does not quote cells.",
                hint_params={"quote": chr(q)})

    def _unterminated(self, where: int, nl: np.ndarray, base: int, lines: int) -> None:
        record = lines + int(np.searchsorted(nl, where)) + 1
        raise InputFormatError(
            "the quoted cell that starts here is never closed", {}, file=self.path,
            record=record, offset=base + where,
            hint="Everything after an unmatched {quote} is read as one cell. Fix the quote in "
                 "the export, or set quote: null in the mapping if the file does not quote "
                 "cells.", hint_params={"quote": chr(self.quote or 0x22)})

    def _check_newlines(self, a: np.ndarray, nl: np.ndarray, base: int, lines: int) -> None:
        if not len(nl):
            return
        prev = a[np.maximum(nl - 1, 0)] == CR
        prev &= nl > 0
        bad = np.flatnonzero(~prev if self.crlf else prev)
        if len(bad):
            i = int(bad[0])
            raise InputFormatError(
                "the line ends with {found}, but the mapping says newline: {expected}",
                {"found": "LF" if self.crlf else "CRLF", "expected": "crlf" if self.crlf else "lf"},
                file=self.path, record=lines + i + 1, offset=base + int(nl[i]),
                hint="Set source.newline to the line break the file uses (crlf or lf).")

    def _too_long_line(self, a: np.ndarray, base: int, lines: int) -> None:
        nl = a[:0].astype(np.int64)
        if self.quote is not None:
            qpos = np.flatnonzero(a == self.quote)
            if len(qpos):
                self._check_quotes(a, qpos, nl, base, lines, True)
                if len(qpos) % 2:
                    self._unterminated(int(qpos[-1]), nl, base, lines)
        raise InputFormatError(
            "line {record} is longer than {limit} bytes",
            {"record": lines + 1, "limit": MAX_LINE_BYTES}, file=self.path, record=lines + 1,
            offset=base, hint="Check delimiter, quote and newline in the mapping; this may "
                              "not be a delimited export.")

    def _keep_children_with_parents(self, plan: list[tuple[int, int, int, int]]
                                    ) -> list[tuple[int, int, int, int]]:
        """Move each chunk start past child records, so a parent and its children stay in
        one chunk (as FixedWidthReader.plan does)."""
        starts: list[tuple[int, int]] = [(plan[0][0], plan[0][2])]
        for first, _, start, _ in plan[1:]:
            first, start = self._next_non_child(first, start)
            if first <= self.n_records and first > starts[-1][0]:
                starts.append((first, start))
        bounds = [*starts, (self.n_records + 1, self.data_end)]
        return [(f, g - f, s, t - s) for (f, s), (g, t) in zip(bounds, bounds[1:], strict=False)]

    def _next_non_child(self, first: int, start: int) -> tuple[int, int]:
        """(record, offset) of the first line at or after `first` that is not a child."""
        assert self.record_type is not None
        slot = self.slots[self.record_type[0]]
        code = Slot(slot.column, 0, slot.length)
        window = 1 << 16
        while first <= self.n_records:
            size = min(window, self.data_end - start)
            buf = self._read(start, size)
            cells = self._cells(buf[:size])
            # Only lines ended by a line break inside the window are whole (at the end of the
            # data the last line needs none).
            whole = len(cells.last) - (cells.open_end and start + size < self.data_end)
            if whole <= 0:
                window *= 2
                continue
            records, _, _, too_long, _ = self._fill(buf, size, cells, whole, start, [code],
                                                    code.length)
            kinds = self._kinds_of(records, too_long[:, 0])
            line_starts = cells.line_starts()
            found = np.flatnonzero(kinds < CHILD)
            if len(found):
                i = int(found[0])
                return first + i, start + int(line_starts[i])
            if whole == len(line_starts):
                break
            first, start = first + whole, start + int(line_starts[whole])
        return self.n_records + 1, self.data_end

    # ------------------------------------------------------------------ public reading

    def plan(self) -> list[tuple[int, int, int, int]]:
        """(first record, record count, byte start, byte length) of every chunk, file order.

        Fixed by chunk_bytes, not by the number of workers; boundaries are structural line
        breaks, so a chunk is readable on its own."""
        return list(self._plan)

    def chunks(self) -> Iterator[RecordChunk]:
        """Yield consecutive record chunks in file order."""
        for first, n, start, size in self._plan:
            yield self.read_chunk(first, n, start, size)

    def read_chunk(self, first_record: int, n: int, start: int, size: int) -> RecordChunk:
        """Frame one planned chunk into a synthetic fixed-width matrix (any process can call).

        cell_offsets are the file offset of each cell's first byte — the opening quote when the
        cell is quoted; for a missing column, the offset of the line's end (its CR or LF)."""
        buf = self._read(start, size)
        cells = self._cells(buf[:size])
        if len(cells.last) != n:
            raise InputFormatError("the file changed while it was being read",
                                   file=self.path, hint="Copy the export to a local "
                                                        "folder and run again.")
        records, record_offsets, cell_offsets, too_long, missing = self._fill(
            buf, size, cells, n, start, self.slots, self.width)
        if self.record_type is None:
            kinds = np.full(n, DATA, dtype=np.int8)
        else:
            ti = self.record_type[0]
            slot = self.slots[ti]
            kinds = self._kinds_of(records[:, slot.offset:slot.offset + slot.length],
                                   too_long[:, ti])
        if self.header_line and first_record == 1 and n:
            kinds[0] = HEADER
        return RecordChunk(first_record, records, kinds, 0, record_offsets=record_offsets,
                           cell_offsets=cell_offsets, too_long=too_long, missing=missing)

    def header_record(self) -> bytes | None:
        """The synthetic row of line 1 when the file has a header line."""
        if not self.header_line:
            return None
        chunk = self.read_chunk(1, 1, self.data_start, self._first_line_end - self.data_start)
        return chunk.records[0].tobytes()

    # ------------------------------------------------------------------ vectorized framing

    def _read(self, start: int, size: int) -> np.ndarray:
        """size bytes at start followed by spaces of slack, so that a slot-wide window from
        any cell start stays inside the buffer (the gather needs no bounds checks)."""
        buf = np.empty(size + self._max_slot + 2, dtype=np.uint8)
        buf[size:] = SPACE
        view = memoryview(buf)
        got = 0
        with open(self.path, "rb") as handle:
            fd = handle.fileno()
            while got < size:
                n = os.preadv(fd, [view[got:size]], start + got)
                if n <= 0:
                    raise InputFormatError("the file changed while it was being read",
                                           file=self.path, hint="Copy the export to a local "
                                                                "folder and run again.")
                got += n
        return buf

    def _cells(self, a: np.ndarray) -> _Cells:
        """Structural separators of a run of whole lines (the last may lack its line break)."""
        n = len(a)
        mask = np.equal(a, self.delimiter)
        other = np.equal(a, LF)
        mask |= other
        if self.quote is not None:
            np.equal(a, self.quote, out=other)
            mask |= other
        del other
        events = np.flatnonzero(mask)
        del mask
        kind = a[events]
        qpos = events[:0]
        counts = None
        if self.quote is not None:
            is_q = kind == self.quote
            if is_q.any():
                counts = np.cumsum(is_q, dtype=np.int64)
                keep = ~is_q
                keep &= (counts & 1) == 0
                qpos = events[is_q]
                events, counts, kind = events[keep], counts[keep], kind[keep]
        is_nl = kind == LF
        open_end = bool(n) and not (len(events) and is_nl[-1] and events[-1] == n - 1)
        size = len(events) + 1 + open_end
        sep = np.empty(size, dtype=np.int64)
        sep[0] = -1
        sep[1:len(events) + 1] = events
        cum = np.zeros(size, dtype=np.int64)
        if counts is not None:
            cum[1:len(events) + 1] = counts
        last = np.flatnonzero(is_nl) + 1
        if open_end:
            sep[-1] = n
            cum[-1] = len(qpos)
            last = np.append(last, size - 1)
        return _Cells(a, sep, cum, last, open_end, qpos, self.crlf)

    def _fill(self, buf: np.ndarray, size: int, cells: _Cells, n: int, base: int,
              slots: Sequence[Slot], width: int
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Gather every slot's cell into a space-filled (n, width) matrix with fancy indexing,
        one slot at a time (no loop over lines)."""
        last = cells.last[:n]
        first = cells.first[:n]
        k = len(slots)
        records = np.full((n, width), SPACE, dtype=np.uint8)
        cell_offsets = np.empty((n, k), dtype=np.int64)
        too_long = np.zeros((n, k), dtype=bool)
        missing = np.zeros((n, k), dtype=bool)
        record_offsets = cells.sep[first - 1] + (1 + base)
        a = buf[:size]
        for j, slot in enumerate(slots):
            present, s, e, nq = cells.bounds(first, last, slot.column)
            missing[:, j] = ~present
            cell_offsets[:, j] = s + base
            if self.quote is not None and len(cells.qpos):
                quoted = nq > 0          # the framing check guarantees such cells are quoted
                s = s + quoted
                e = e - quoted
                escaped = np.flatnonzero(nq > 2)
            else:
                escaped = nq[:0]
            length = e - s
            true_length = length - np.maximum(nq - 2, 0) // 2
            too_long[:, j] = true_length > slot.length
            take = np.minimum(length, slot.length)
            dst = records[:, slot.offset:slot.offset + slot.length]
            # Each row: the slot-wide window from the cell start, bytes past the cell's end
            # masked to 0 then OR-ed with spaces (per-length mask rows from two small tables).
            keep, pad = _masks(slot.length)
            window = sliding_window_view(buf[:size + slot.length], slot.length)[s]
            np.bitwise_and(window, keep[take], out=window)
            np.bitwise_or(window, pad[take], out=dst)
            if len(escaped):
                self._unescape(dst, a, cells.qpos, escaped, s[escaped], e[escaped])
        return records, record_offsets, cell_offsets, too_long, missing

    def _unescape(self, dst: np.ndarray, a: np.ndarray, qpos: np.ndarray, rows: np.ndarray,
                  s: np.ndarray, e: np.ndarray) -> None:
        """Rewrite the rows whose quoted cell has doubled quotes inside, without a Python loop.

        Inside a quoted cell a doubled quote is the pair (odd, even) in the file's quote count
        (the opening quote being even), so dropping the even-numbered quotes leaves one of each."""
        lengths = e - s
        total = int(lengths.sum())
        first = np.cumsum(lengths) - lengths                      # row's start in the flat run
        row_of = np.repeat(np.arange(len(rows)), lengths)
        flat = np.arange(total, dtype=np.int64) - np.repeat(first - s, lengths)
        is_q = a[flat] == self.quote
        drop = np.zeros(total, dtype=bool)
        drop[is_q] = (np.searchsorted(qpos, flat[is_q]) & 1) == 0
        flat, row_of = flat[~drop], row_of[~drop]
        kept = np.bincount(row_of, minlength=len(rows))
        col = np.arange(len(flat)) - np.repeat(np.cumsum(kept) - kept, kept)
        fits = col < dst.shape[1]
        dst[rows] = SPACE
        dst[rows[row_of[fits]], col[fits]] = a[flat[fits]]

    def _kinds_of(self, field: np.ndarray, too_long: np.ndarray) -> np.ndarray:
        """Kinds from the record-type cell with its space padding stripped (both sides); where a
        header or trailer may stand is the run's framing check (migrate.reconcile.framing)."""
        assert self.record_type is not None
        n, length = field.shape
        kinds = np.full(n, UNKNOWN, dtype=np.int8)
        nonspace = field != SPACE
        lead = np.argmax(nonspace, axis=1)
        blank = ~nonspace.any(axis=1)
        for code, kind in self.record_type[1].items():
            m = len(code)
            pattern = np.frombuffer(code, dtype=np.uint8)
            if m == 0:
                kinds[blank] = kind
                continue
            for shift in range(length - m + 1):
                match = (lead == shift) & (field[:, shift:shift + m] == pattern).all(axis=1)
                match &= ~nonspace[:, shift + m:].any(axis=1)
                kinds[match] = kind
        kinds[too_long] = UNKNOWN
        return kinds

    def _header_names(self) -> list[str]:
        """Line 1's cells, unquoted and decoded (undecodable bytes replaced), spaces stripped
        as migrate.read does."""
        size = self._first_line_end - self.data_start
        a = self._read(self.data_start, size)[:size]
        cells = self._cells(a)
        names = []
        first, last = cells.first[:1], cells.last[:1]
        count = int(last[0] - first[0]) + 1 if len(last) else 0
        for column in range(count):
            _, start, end, quotes = (int(x[0]) for x in cells.bounds(first, last, column))
            raw = a[start:end].tobytes()
            if quotes and self.quote is not None:
                q = bytes([self.quote])
                raw = raw[1:-1].replace(q + q, q)
            names.append(raw.decode(self.encoding, "replace").strip())
        return names
