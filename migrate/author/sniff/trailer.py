"""The trailer's record count: the digits of the trailer record that spell the number of data
records the file holds (children included), found by value, not by position."""

from __future__ import annotations

import re
from dataclasses import dataclass

# zoned decimal: the sign overpunched on the last byte stands for a digit
_OVERPUNCH = {ord("{"): "0", ord("}"): "0",
              **{ord("A") + i: str(i + 1) for i in range(9)},
              **{ord("J") + i: str(i + 1) for i in range(9)}}


@dataclass(frozen=True)
class TrailerGuess:
    """Where the record count sits in the trailer, and its type: zoned when its last byte is
    an overpunched sign, else digits."""

    offset: int
    length: int
    type: str
    count: int


def guess_trailer(record: bytes, data_records: int, skip: tuple[int, int]) -> TrailerGuess | None:
    """The count field: the shortest run of digits after the record type whose value is
    `data_records` (a run may go on into the next field, a control total)."""
    text = record.decode("latin-1")
    for start in range(skip[0] + skip[1], len(text)):
        if not text[start].isdigit():
            continue
        run = re.match(r"[0-9]+[{}A-R]?", text[start:]).group(0)  # type: ignore[union-attr]
        for end in range(1, len(run) + 1):
            digits = run[:end]
            zoned = not digits[-1].isdigit()
            value = int(digits[:-1] + _OVERPUNCH[ord(digits[-1])] if zoned else digits)
            if value == data_records and not (zoned and digits[-1] in "}JKLMNOPQR"):
                return TrailerGuess(start, end, "zoned" if zoned else "digits", data_records)
            if value > data_records:
                break
    return None
