"""The cells of a delimited (CSV/TSV) file: whether line 1 names the columns, whether a column
holds record-type codes (data lines, a trailer line), and for each column the type the real
decoders accept on every sampled cell and the most bytes a cell may need."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from migrate.author.sniff.fields import FieldGuess, shape
from migrate.author.sniff.framing import Framing
from migrate.author.sniff.trailer import TrailerGuess
from migrate.decode import DEFAULT_ERAS, decode_decimal, decode_digits, decode_wareki, decode_ymd

MAX_LINES = 2000


@dataclass
class CellGuess:
    """What the cells of a delimited file look like."""

    header_line: bool
    names: list[str]  # the header line's names ("" without one)
    record_type_column: int | None
    data_code: str | None
    trailer_code: str | None
    columns: list[FieldGuess] = field(default_factory=list)  # offset = the column index
    trailer: TrailerGuess | None = None  # offset = the column index of the count


def _rows(sample: bytes, framing: Framing, encoding: str) -> list[list[str]]:
    text = sample[:sample.rfind(b"\n") + 1].decode(encoding, "replace")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=framing.delimiter,
                        quotechar=framing.quote or '"',
                        quoting=csv.QUOTE_MINIMAL if framing.quote else csv.QUOTE_NONE)
    return [row for _, row in zip(range(MAX_LINES), reader, strict=False)]


def guess_cells(path: Path, sample: bytes, framing: Framing, encoding: str) -> CellGuess:
    rows = _rows(sample, framing, encoding)
    width = max((len(r) for r in rows), default=0)
    first, rest = rows[0], rows[1:]
    header = bool(rest) and all(not c.strip().lstrip("-").replace(".", "").isdigit()
                                for c in first) and any(
        any(c.strip().isdigit() for c in r) for r in rest[:50])
    body = rest if header else rows
    codes = [r[0] for r in body if r]
    rt_column = data_code = trailer_code = None
    if codes and len(set(codes)) <= 4 and all(0 < len(c) <= 2 and c.isascii() for c in codes):
        rt_column, data_code = 0, codes[0]
        if codes[-1] != data_code and codes.count(codes[-1]) == 1:
            trailer_code = codes[-1]
    data = [r for r in body if rt_column is None or (r and r[0] == data_code)]
    guess = CellGuess(header, first if header else [""] * width, rt_column, data_code,
                      trailer_code)
    for column in range(width):
        if column == rt_column:
            continue
        cells = [r[column] if column < len(r) else "" for r in data]
        guess.columns.append(_column(column, cells, encoding))
    if trailer_code is not None:
        lines = _count_lines(path, sample)
        data_lines = lines - header - 1
        trailer_row = body[-1]
        for column, cell in enumerate(trailer_row[1:], start=1):
            if cell.strip().isdigit() and int(cell) == data_lines:
                guess.trailer = TrailerGuess(column, max(9, len(cell)), "digits", data_lines)
                break
    return guess


def _count_lines(path: Path, sample: bytes) -> int:
    """Lines of the file (the sample's when it holds the whole file), read in blocks."""
    if len(sample) == Path(path).stat().st_size:
        return sample.count(b"\n") + (not sample.endswith(b"\n"))
    count, last = 0, b""
    with open(path, "rb") as handle:
        while block := handle.read(1 << 22):
            count += block.count(b"\n")
            last = block[-1:]
    return count + (last != b"\n")


def _column(column: int, cells: list[str], encoding: str) -> FieldGuess:
    raw = [c.encode(encoding, "replace") for c in cells]
    longest = max((len(c) for c in raw), default=1) or 1
    matrix = np.full((len(raw), longest), 0x20, np.uint8)
    for i, cell in enumerate(raw):
        matrix[i, :len(cell)] = np.frombuffer(cell, np.uint8)
    guess = FieldGuess(column, longest, "text")
    filled = [c for c in cells if c.strip()]
    if filled and longest == 7 and _accepts(decode_wareki(matrix, eras=DEFAULT_ERAS,
                                                          lenient_calendar=True)):
        guess.type = "wareki"
        guess.notes.append("和暦 GYYMMDD: every sampled value is a date")
    elif filled and longest == 8 and all(c[:2] in ("18", "19", "20") for c in filled) \
            and _accepts(decode_ymd(matrix, lenient_calendar=True)):
        guess.type = "ymd"
        guess.notes.append("YYYYMMDD: every sampled value is a date")
    elif filled and _accepts(decode_digits(matrix)):
        guess.type = "digits"
        guess.length = max(longest, 1)
    elif filled and longest <= 20 and _accepts(decode_decimal(matrix)):
        guess.type = "decimal"
    else:
        # room for longer values than the sample's (a longer cell is rejected, not cut)
        guess.length = max(8, 2 * longest)
        if not filled:
            guess.notes.append("blank in every sampled record")
    seen: list[str] = []
    for cell in filled:
        masked = shape(cell)
        if masked not in seen:
            seen.append(masked)
        if len(seen) == 2:
            break
    guess.samples = seen
    return guess


def _accepts(result) -> bool:  # FieldResult
    return result.errors.null_count() == len(result.errors)
