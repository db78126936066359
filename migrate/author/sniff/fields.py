"""Candidate fields of fixed-width records: boundaries where the kind of byte changes, and for
each candidate the field type the real decoders accept on every sampled record.

Each byte of each sampled record gets a class — space, digit, other ASCII, half-width kana,
part of a wide (double-byte) character, the full-width space, or binary — by walking the
record in its encoding (a Python loop over at most `MAX_RECORDS` records: the sample is small,
and the walk must know where a double-byte character starts). A position's label is the mix of
classes seen there. Runs of one label are cut further where a field usually starts: after
padding (left-aligned text) or at leading zeros (right-aligned numbers). Packed decimals are
found first, by their sign half-byte (C, D or F in the low nibble of their last byte, in every
record). The type of each candidate is the first of packed, zoned, wareki, ymd, digits and text
that decodes every sampled record without an error (`migrate.decode`, the decoders `migrate
run` uses), so the draft reads the sample as it was guessed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from migrate.decode import (
    DEFAULT_ERAS,
    decode_digits,
    decode_packed,
    decode_text,
    decode_wareki,
    decode_ymd,
    decode_zoned,
)
from migrate.layouts.source import MAX_PACKED_BYTES, MAX_ZONED_DIGITS

MAX_RECORDS = 1000
MIN_RECORDS_FOR_DATES = 5
SPACE, DIGIT, ASCII, KANA, WIDE, WIDE_SPACE, BINARY = range(7)
_OVERPUNCH = frozenset(b"{}ABCDEFGHIJKLMNOPQR")
_SIGNS = frozenset((0xA, 0xB, 0xC, 0xD, 0xE, 0xF))


@dataclass
class FieldGuess:
    """A candidate field: where it is, the type that decodes the sample, and why."""

    offset: int
    length: int
    type: str  # text | digits | zoned | packed | wareki | ymd | bytes (binary, not declared)
    notes: list[str] = field(default_factory=list)
    samples: list[str] = field(default_factory=list)  # masked: the shape of values only
    kana: bool = False  # half-width katakana: the column should take kana: fullwidth

    @property
    def end(self) -> int:
        return self.offset + self.length


def byte_classes(record: bytes, encoding: str) -> np.ndarray:
    """The class of each byte of one record, walking its characters in `encoding`."""
    out = np.empty(len(record), np.int8)
    i, n = 0, len(record)
    euc = encoding.startswith("euc")
    utf8 = encoding.replace("-", "_") == "utf_8"
    while i < n:
        b = record[i]
        width, kind = 1, BINARY
        if b == 0x20:
            kind = SPACE
        elif 0x30 <= b <= 0x39:
            kind = DIGIT
        elif 0x20 < b < 0x7F:
            kind = ASCII
        elif utf8 and b >= 0xC2:
            width = 2 if b < 0xE0 else 3 if b < 0xF0 else 4
            char = record[i:i + width]
            try:
                text = char.decode("utf-8")
                kind = WIDE_SPACE if text == "\u3000" else \
                    KANA if "\uff61" <= text <= "\uff9f" else WIDE
            except UnicodeDecodeError:
                width, kind = 1, BINARY
        elif euc and b == 0x8E and i + 1 < n and 0xA1 <= record[i + 1] <= 0xDF:
            width, kind = 2, KANA
        elif euc and 0xA1 <= b <= 0xFE and i + 1 < n and 0xA1 <= record[i + 1] <= 0xFE:
            width, kind = 2, WIDE_SPACE if record[i:i + 2] == b"\xa1\xa1" else WIDE
        elif not euc and not utf8 and 0xA1 <= b <= 0xDF:
            kind = KANA
        elif not euc and not utf8 and (0x81 <= b <= 0x9F or 0xE0 <= b <= 0xFC) and i + 1 < n \
                and (0x40 <= record[i + 1] <= 0x7E or 0x80 <= record[i + 1] <= 0xFC):
            width, kind = 2, WIDE_SPACE if record[i:i + 2] == b"\x81\x40" else WIDE
        out[i:i + width] = kind
        i += width
    return out


def shape(text: str | None) -> str:
    """A value with every character replaced by its kind (9 digit, X letter, ｶ half-width
    kana, 漢 wide character; spaces and - / : . kept): what a sample looks like, never what it
    says, so that a draft mapping can carry it without personal data."""
    if text is None:
        return "∅"
    out = []
    for char in text:
        if char.isdigit() and char.isascii():
            out.append("9")
        elif char.isascii() and char.isalpha():
            out.append("X")
        elif char in " \u3000-/:.":
            out.append(char)
        elif "\uff61" <= char <= "\uff9f":
            out.append("ｶ")
        else:
            out.append("漢" if ord(char) > 0x2000 else "?")
    return "".join(out)


def guess_fields(records: np.ndarray, encoding: str, skip: tuple[int, int] | None = None
                 ) -> list[FieldGuess]:
    """Candidate fields of the (n, L) records (one record type), in offset order; `skip` is
    the (offset, length) of the record-type code, which is no field of its own."""
    records = records[:MAX_RECORDS]
    classes = np.stack([byte_classes(bytes(row), encoding) for row in records])
    width = records.shape[1]
    taken = np.zeros(width, bool)
    if skip is not None:
        taken[skip[0]:skip[0] + skip[1]] = True
    guesses = _packed(records, taken)
    for start, end in _free_runs(taken):
        guesses.extend(_split_run(records, classes, start, end))
    guesses.sort(key=lambda g: g.offset)
    for guess in guesses:
        _settle_type(guess, records, encoding)
    return guesses


def packed_columns(records: np.ndarray) -> np.ndarray:
    """The byte positions that belong to a packed decimal (needs no encoding)."""
    taken = np.zeros(records.shape[1], bool)
    for guess in _packed(records, taken.copy()):
        taken[guess.offset:guess.end] = True
    return taken


def _packed(records: np.ndarray, taken: np.ndarray) -> list[FieldGuess]:
    """Packed decimals: a column whose low half-byte is a sign in every record ends one; the
    columns before it whose half-bytes are all digits (and that are not plain ASCII digits or
    spaces) are its other bytes; some byte of it is below 0x20 in some record (else it is
    text whose bytes only look like half-bytes)."""
    high, low = records >> 4, records & 0x0F
    digit_nibbles = ((high <= 9) & (low <= 9)).all(axis=0)
    sign = (high <= 9).all(axis=0) & np.isin(low, list(_SIGNS)).all(axis=0)
    plain = ((records == 0x20) | ((records >= 0x30) & (records <= 0x39))).all(axis=0)
    binary = (records < 0x20).any(axis=0)
    found = []
    for end in np.flatnonzero(sign & ~taken):
        start = int(end)
        while start > 0 and int(end) - start + 1 < MAX_PACKED_BYTES and not taken[start - 1] \
                and digit_nibbles[start - 1] and not plain[start - 1] and not sign[start - 1]:
            start -= 1
        if not binary[start:end + 1].any():
            continue  # no byte below 0x20 anywhere: text whose bytes look like half-bytes
        taken[start:end + 1] = True
        found.append(FieldGuess(start, int(end) - start + 1, "packed"))
    return found


def _free_runs(taken: np.ndarray) -> list[tuple[int, int]]:
    runs, start = [], None
    for j, busy in enumerate([*taken, True]):
        if not busy and start is None:
            start = j
        elif busy and start is not None:
            runs.append((start, j))
            start = None
    return runs


def _label(column: np.ndarray, column_bytes: np.ndarray) -> str:
    kinds = set(np.unique(column).tolist())
    if kinds == {SPACE}:
        return "blank"
    if BINARY in kinds:
        return "bytes"
    if kinds <= {SPACE, DIGIT}:
        return "digits"
    if kinds <= {SPACE, DIGIT, ASCII} and set(np.unique(column_bytes[column == ASCII]).tolist()) \
            <= _OVERPUNCH:
        return "sign"
    if kinds & {WIDE, WIDE_SPACE}:
        return "wide"
    if KANA in kinds:
        return "kana"
    return "ascii"


def _split_run(records: np.ndarray, classes: np.ndarray, start: int, end: int
               ) -> list[FieldGuess]:
    labels = [_label(classes[:, j], records[:, j]) for j in range(start, end)]
    pieces: list[tuple[int, int, str]] = []
    for j, label in zip(range(start, end), labels, strict=True):
        if label == "sign":  # the last byte of a zoned number, or text
            if pieces and pieces[-1][2] == "digits" and pieces[-1][1] == j \
                    and j + 1 - pieces[-1][0] <= MAX_ZONED_DIGITS \
                    and ((records[:, j] == 0x20) == (records[:, j - 1] == 0x20)).all():
                pieces[-1] = (pieces[-1][0], j + 1, "zoned")
                continue
            label = "ascii"
        if pieces and pieces[-1][1] == j and (
                pieces[-1][2] == label
                or (label == "blank" and pieces[-1][2] in ("wide", "kana", "ascii"))):
            pieces[-1] = (pieces[-1][0], j + 1, pieces[-1][2])
        else:
            pieces.append((j, j + 1, label))
    out = []
    for a, b, label in pieces:
        cut = _cut(records, classes, a, b, "digits" if label == "zoned" else label)
        for x, y in cut:
            kind = {"digits": "digits", "zoned": "zoned", "bytes": "bytes"}.get(label, "text")
            if kind == "zoned" and y != b:
                kind = "digits"  # the numbers before the one that carries the sign
            out.append(FieldGuess(x, y - x, kind, kana=label == "kana"))
    return out


def _cut(records: np.ndarray, classes: np.ndarray, a: int, b: int, label: str
         ) -> list[tuple[int, int]]:
    """Cut a run where a new field usually starts."""
    cuts = [a]
    if label == "digits" and len(records) < MIN_RECORDS_FOR_DATES:
        return [(a, b)]  # one record (a header): any digits could pass for a date
    if label == "digits":
        return _cut_dates(records, a, b)
    if label == "numbers":
        # right-aligned numbers: a varying digit, then the leading zeros of the next number
        for j in range(a + 2, b - 1):
            before = len(np.unique(records[:, j - 1]))
            here = records[:, j]
            if before >= 4 and (here == 0x30).mean() >= 0.9 and j - cuts[-1] >= 2:
                cuts.append(j)
    elif label in ("wide", "kana", "ascii"):
        padding = np.isin(classes, (SPACE, WIDE_SPACE))
        step = 2 if label == "wide" else 1
        for j in range(a + 2 * step, b, step):
            # the end of a field is padding twice over (a space inside a value, like the one
            # between family and given name, is not)
            trailing = padding[:, j - step] & padding[:, j - 2 * step]
            if trailing.mean() >= 0.8 and padding[:, j].mean() <= 0.05 and j - cuts[-1] > step:
                cuts.append(j)
    return [(x, y) for x, y in zip(cuts, [*cuts[1:], b], strict=True)]


def _is_date(cells: np.ndarray, kind: str) -> bool:
    """Every sampled value decodes as a date of this kind, and most are not blank; a YYYYMMDD
    year starts with 18, 19 or 20 (else any 8 digits of leading zeros would pass)."""
    if kind == "ymd":
        century = cells[:, :2].astype(np.int32) - 0x30
        years = century[:, 0] * 10 + century[:, 1]
        blank = (cells == 0x30).all(axis=1) | (cells == 0x20).all(axis=1)
        if not (np.isin(years, (18, 19, 20)) | blank).all():
            return False
    result = decode_wareki(cells, eras=DEFAULT_ERAS, lenient_calendar=True) if kind == "wareki" \
        else decode_ymd(cells, lenient_calendar=True)
    return result.errors.null_count() == len(cells) \
        and result.values.null_count() <= len(cells) // 2


def _cut_dates(records: np.ndarray, a: int, b: int) -> list[tuple[int, int]]:
    """A run of digits holds several fields when dates sit in it: take out every 7-byte 和暦
    and 8-byte YYYYMMDD window that decodes as a date in every sampled record, then cut what
    is left between them at leading zeros."""
    pieces: list[tuple[int, int]] = []
    j = rest = a
    while j < b:
        found = next((w for w, kind in ((8, "ymd"), (7, "wareki")) if j + w <= b and _is_date(
            np.ascontiguousarray(records[:, j:j + w]), kind)), 0)
        if found:
            if rest < j:
                pieces.extend(_cut(records, np.zeros((0, 0)), rest, j, "numbers"))
            pieces.append((j, j + found))
            j = rest = j + found
        else:
            j += 1
    if rest < b:
        pieces.extend(_cut(records, np.zeros((0, 0)), rest, b, "numbers"))
    return pieces


def _settle_type(guess: FieldGuess, records: np.ndarray, encoding: str) -> None:
    """The first type whose decoder accepts every sampled record; notes say what was seen."""
    cells = np.ascontiguousarray(records[:, guess.offset:guess.end])
    values = None
    if guess.type == "packed":
        result = decode_packed(cells) if guess.length <= MAX_PACKED_BYTES else None
        if result is not None and result.errors.null_count() == len(cells):
            guess.notes.append("packed decimal (COMP-3): sign half-byte in the last byte")
            values = result.values
        else:
            guess.type = "bytes"
    elif guess.type == "zoned":
        result = decode_zoned(cells) if guess.length <= MAX_ZONED_DIGITS else None
        if result is not None and result.errors.null_count() == len(cells):
            guess.notes.append("zoned decimal: sign overpunched on the last byte")
            values = result.values
        else:
            guess.type = "text"
    elif guess.type == "digits":
        values = _digits_type(guess, cells)
    if guess.type == "bytes":
        guess.notes.append("binary bytes that are not a packed decimal: not declared")
        return
    if guess.type == "text":
        result = decode_text(cells, encoding=encoding)
        values = result.values
        reasons = set(result.errors.drop_nulls().to_list())
        if "gaiji_unmapped" in reasons:
            guess.notes.append("外字 (user-defined characters) in the sample: give the "
                               "mapping a gaiji table (source.gaiji)")
        if reasons - {"gaiji_unmapped"}:
            guess.notes.append("some sampled values are not text in this encoding")
        if values.null_count() == len(cells):
            guess.notes.append("blank in every sampled record")
        elif guess.kana:
            guess.notes.append("half-width katakana")
    seen: list[str] = []
    for value in values.to_list() if values is not None else []:
        masked = shape(None if value is None else str(value))
        if masked not in seen:
            seen.append(masked)
        if len(seen) == 2:
            break
    guess.samples = seen


def _digits_type(guess: FieldGuess, cells: np.ndarray):  # -> pl.Series
    """和暦 (GYYMMDD), YYYYMMDD, or plain digits — or text when digits do not decode either."""
    candidates = []
    if guess.length == 7:
        candidates.append(("wareki", decode_wareki(cells, eras=DEFAULT_ERAS,
                                                   lenient_calendar=True),
                           "和暦 GYYMMDD: every sampled value is a date"))
    if guess.length == 8:
        candidates.append(("ymd", decode_ymd(cells, lenient_calendar=True),
                           "YYYYMMDD: every sampled value is a date"))
    for name, result, note in candidates:
        if result.errors.null_count() == len(cells) \
                and result.values.null_count() <= len(cells) // 2:
            guess.type = name
            guess.notes.append(note)
            return result.values
    result = decode_digits(cells)
    if result.errors.null_count() == len(cells):
        return result.values
    guess.type = "text"
    return None
