"""Where the record-type code (レコード区分) sits and what its values mean: the code of the first
record is the header's when no other record has it, the code of the last record the trailer's,
the code of the record after the header the data records', and any other code a child record
type (a record that belongs to the data record before it)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

MAX_CODES = 8  # more distinct values than this at a position: not a record-type code


@dataclass(frozen=True)
class RecordTypeGuess:
    """The record-type code's position and the codes found, with how often each occurs."""

    offset: int
    length: int
    data: str
    header: str | None
    trailer: str | None
    children: tuple[str, ...]
    counts: tuple[tuple[str, int], ...]


def detect_record_types(records: np.ndarray, last_record: bytes, covers_all: bool
                        ) -> RecordTypeGuess | None:
    """The record type of fixed-width `records` (the first records of the file as an (n, L)
    byte matrix; all of them when `covers_all`) given the file's last record; None when no
    position looks like one."""
    if covers_all:
        records = records[:-1]
    if len(records) < 2:
        return None
    found = []
    for offset in range(min(records.shape[1], 4)):
        # the shortest code that splits the records: a longer one would take in the first
        # bytes of the next field, which only happen to be alike in the sample
        for length in (1, 2, 3):
            if offset + length > records.shape[1]:
                continue
            guess = _at(records, last_record, offset, length)
            if guess is not None:
                found.append(guess)
                break
    if not found:
        return None
    # prefer a header and a trailer, then few codes, then the earliest position
    return min(found, key=lambda g: (-(g.header is not None) - (g.trailer is not None),
                                     len(g.counts), g.offset))


def _at(records: np.ndarray, last_record: bytes, offset: int, length: int
        ) -> RecordTypeGuess | None:
    cells = records[:, offset:offset + length]
    last = last_record[offset:offset + length]
    if not ((cells > 0x20) & (cells < 0x7F)).all() or len(last) != length \
            or not all(0x20 < b < 0x7F for b in last):
        return None
    codes = [bytes(row).decode("ascii") for row in cells]
    last_code = last.decode("ascii")
    counts = Counter(codes)
    if len(counts) + 1 > MAX_CODES or len(counts) == len(codes):
        return None
    header = codes[0] if counts[codes[0]] == 1 else None
    trailer = last_code if last_code not in counts else None
    body = codes[1:] if header else codes
    if not body:
        return None
    data = body[0]
    children = tuple(sorted({c for c in body if c != data}))
    if len(children) > 3 or (header is None and trailer is None and not children):
        return None
    counts[last_code] += 1
    return RecordTypeGuess(offset, length, data, header, trailer, children,
                           tuple(sorted(counts.items())))
