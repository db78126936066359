"""Decode a fixed-width text column (cp932 by default) with one codec call per column.

Building a Python str per cell costs more than the decode itself, so the whole column is
decoded at once: every cell gets a 0x0A separator (0x0A is never part of a multi-byte
character in the supported encodings), the buffer is decoded once, re-encoded to UTF-8
once, and the Arrow string array is built from that buffer and the separator offsets.
Only the rare bad cells (undecodable, split at the field end, or holding 0x0A) and the rows
holding private-use or control characters are looked at one by one, to give each a precise
reason code; nothing is ever replaced by '?' or U+FFFD.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from migrate.decode import textcodec
from migrate.decode.result import (
    GAIJI_UNMAPPED,
    INVALID_CHARACTER,
    SPLIT_CHARACTER,
    UNDECODABLE_BYTES,
    FieldResult,
    as_cells,
    code_index,
    copy_rows,
    null_reasons,
    reason_series,
)
from migrate.layouts.encodings import supported_encoding

_SEP = 0x0A
_STRIP = {"both": " \u3000", "full": "\u3000", "half": " ", "none": ""}
# Rows matching this are resolved one by one: user-defined area (gaiji) and other private
# use, C0/C1 controls and DEL.
_SUSPECT_PATTERN = r"[\x00-\x1F\x7F-\x9F\x{E000}-\x{F8FF}\x{F0000}-\x{10FFFF}]"
_GAIJI_FIRST, _GAIJI_LAST = 0xE000, 0xE757
_INVALID_RE = re.compile("[\x00-\x1f\x7f-\x9f\ue758-\uf8ff\U000f0000-\U0010ffff]")
_GAIJI_RE = re.compile("[\ue000-\ue757]")
# After a failure, the next attempt decodes this many rows (doubling while they succeed),
# so that a column with many bad cells stays linear in its size.
_WINDOW_ROWS = 4096


def _euc_user_defined(error: UnicodeError) -> tuple[str, int]:
    """Error handler: an EUC-JP user-defined-area character (rows 0xF5–0xFE, cells 0xA1–0xFE,
    where old systems kept their 外字) becomes the private-use character U+E000… that eucJP-ms
    assigns it; anything else stays an error."""
    if isinstance(error, UnicodeDecodeError):
        data, at = error.object, error.start
        if at + 1 < len(data) and 0xF5 <= data[at] <= 0xFE and 0xA1 <= data[at + 1] <= 0xFE:
            return chr(0xE000 + (data[at] - 0xF5) * 94 + data[at + 1] - 0xA1), at + 2
    raise error


codecs.register_error("migrate_euc_user_defined", _euc_user_defined)


def decode_user_defined(cell: bytes, encoding: str) -> str | None:
    """An EUC-JP cell holding user-defined-area characters, decoded with them as private-use
    characters (resolved through the 外字 table like cp932's); None when it still fails, or
    for any other encoding (cp932 decodes its user-defined area itself)."""
    if not encoding.startswith("euc"):
        return None
    try:
        return cell.decode(encoding, errors="migrate_euc_user_defined")
    except UnicodeDecodeError:
        return None


def classify_cell(cell: bytes, encoding: str) -> tuple[str | None, str | None]:
    """Decode one cell exactly: (text, None), or (None, reason) when it cannot be decoded."""
    try:
        return cell.decode(encoding), None
    except UnicodeDecodeError as exc:
        # An incomplete multi-byte sequence can only be at the end of the input, and strict
        # decoding stops at the first error, so everything before it decoded.
        if "incomplete" in exc.reason or "unexpected end" in exc.reason:
            return None, SPLIT_CHARACTER
        return None, UNDECODABLE_BYTES


def resolve_text(text: str, gaiji: Mapping[str, str] | None) -> tuple[str | None, str | None]:
    """Replace gaiji (U+E000–U+E757) through the table; reject other PUA and controls."""
    if _INVALID_RE.search(text):
        return None, INVALID_CHARACTER
    table = gaiji or {}
    unmapped = False

    def sub(match: re.Match[str]) -> str:
        nonlocal unmapped
        char = match.group()
        if char in table:
            return table[char]
        unmapped = True
        return char

    out = _GAIJI_RE.sub(sub, text)
    if unmapped:
        return None, GAIJI_UNMAPPED
    return out, None


def _decode_rows(flat: memoryview, stride: int, n: int, encoding: str) -> tuple[str, list[int]]:
    """Decode n separator-terminated rows; return the text and the rows that failed.

    Failed rows contribute an empty row (just the separator) to the text.  The row of a
    failure is known from the error offset, because every row has the same stride.
    """
    decode = codecs.getdecoder(encoding)
    parts: list[str] = []
    bad: list[int] = []
    row = 0
    window = n  # the first attempt is the whole column; usually it is also the last
    while row < n:
        stop = min(row + window, n)
        try:
            parts.append(decode(flat[row * stride : stop * stride])[0])
            row = stop
            window *= 2
        except UnicodeDecodeError as exc:
            failed = row + exc.start // stride
            if failed > row:
                parts.append(decode(flat[row * stride : failed * stride])[0])
            parts.append("\n")
            bad.append(failed)
            row = failed + 1
            window = _WINDOW_ROWS
    return "".join(parts), bad


def decode_text(
    cells: np.ndarray,
    *,
    encoding: str = "cp932",
    gaiji: Mapping[str, str] | None = None,
    strip: str = "both",
) -> FieldResult:
    """Decode a (n, width) uint8 text column.

    strip: "both" strips trailing U+3000 and U+0020, "full" only U+3000, "half" only U+0020,
    "none" nothing; leading spaces are always kept.  An empty result is null (no value).
    gaiji maps a user-defined-area character (U+E000–U+E757) to its replacement text.
    Errors: undecodable_bytes, split_character, gaiji_unmapped, invalid_character.

    Shift_JIS-family columns go through the compiled one-pass decoder where it is built
    (migrate.decode.textcodec); the cells it flags, and every other column, are decoded here
    in Python, with the same results.
    """
    if strip not in _STRIP:
        raise ValueError(f"strip must be one of {sorted(_STRIP)}, got {strip!r}")
    encoding = supported_encoding(encoding)
    cells = as_cells(cells, contiguous=False)  # copied below
    n = cells.shape[0]
    if n == 0:
        empty = pl.Series("", [], dtype=pl.Utf8)
        return FieldResult(empty, null_reasons(0), null_reasons(0))
    if textcodec.available(encoding):
        values, reasons = _compiled_values(cells, encoding, gaiji, strip)
    else:
        values, reasons = _python_values(cells, encoding, gaiji, strip)
    null = (reasons != 0) | (values.str.len_bytes() == 0).fill_null(True).to_numpy()
    if null.any():
        values = values.set(pl.Series(null), None)
    return FieldResult(values, reason_series(reasons), null_reasons(n))


def _compiled_values(cells: np.ndarray, encoding: str, gaiji: Mapping[str, str] | None,
                     strip: str) -> tuple[pl.Series, np.ndarray]:
    """The column through the compiled decoder; the cells it flags decoded in Python."""
    n = cells.shape[0]
    data, offsets, flags = textcodec.decode_column(cells, encoding, strip)
    arr = pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))
    values = pl.Series("", pl.from_arrow(arr)).cast(pl.Utf8)
    reasons = np.zeros(n, np.uint8)
    flagged = np.flatnonzero(flags)
    if len(flagged):
        exact, exact_reasons = _python_values(cells[flagged], encoding, gaiji, strip)
        values = values.scatter(flagged, exact)
        reasons[flagged] = exact_reasons
    return values, reasons


def _python_values(cells: np.ndarray, encoding: str, gaiji: Mapping[str, str] | None,
                   strip: str) -> tuple[pl.Series, np.ndarray]:
    """The column decoded with Python's codec, once for all its cells: (values before nulls
    are set, reason code of each row)."""
    n, width = cells.shape
    stride = width + 1
    reasons = np.zeros(n, np.uint8)
    buf = copy_rows(cells, np.empty((n, stride), np.uint8))
    buf[:, width] = _SEP
    text, bad_rows = _decode_rows(memoryview(buf).cast("B"), stride, n, encoding)
    if text.count("\n") != n:
        # Rare: a cell holds the separator byte itself. Decode those cells exactly, blanked in
        # the buffer so that the rows stay aligned, and decode the buffer again.
        has_sep = (cells == _SEP).any(axis=1)
        for row in np.flatnonzero(has_sep).tolist():
            _, reason = classify_cell(cells[row].tobytes(), encoding)
            # A cell that decodes alone but holds 0x0A has a control character in it.
            reasons[row] = code_index(reason or INVALID_CHARACTER)
        buf[has_sep, :width] = 0x20
        text, bad_rows = _decode_rows(memoryview(buf).cast("B"), stride, n, encoding)
    del buf

    # Exact handling of the bad cells: a precise reason each.
    user_defined: dict[int, str] = {}  # EUC-JP rows with 外字, decoded one by one
    for row in bad_rows:
        euc = decode_user_defined(cells[row].tobytes(), encoding) if gaiji else None
        if euc is not None:
            user_defined[row] = euc.rstrip(_STRIP[strip])
            continue
        _, reason = classify_cell(cells[row].tobytes(), encoding)
        reasons[row] = code_index(reason or UNDECODABLE_BYTES)

    utf8 = np.frombuffer(text.encode("utf-8"), np.uint8)
    del text
    ends = np.flatnonzero(utf8 == _SEP)
    if len(ends) != n:  # pragma: no cover - guarded by the 0x0A handling above
        raise AssertionError("separator count does not match the row count")
    offsets = np.empty(n + 1, np.int64)
    offsets[0] = 0
    offsets[1:] = ends + 1
    arr = pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(utf8))
    arr = pc.utf8_rtrim(arr, characters=_STRIP[strip] + "\n")
    values = pl.Series("", pl.from_arrow(arr)).cast(pl.Utf8)

    if user_defined:
        values = values.scatter(list(user_defined), pl.Series(list(user_defined.values()),
                                                               dtype=pl.Utf8))
    # Private-use and control characters: only the matching rows are resolved in Python.
    suspect = values.str.contains(_SUSPECT_PATTERN).to_numpy() & (reasons == 0)
    suspect_rows = np.flatnonzero(suspect)
    if len(suspect_rows):
        resolved: list[str | None] = []
        for row, value in zip(
            suspect_rows.tolist(), values.gather(suspect_rows).to_list(), strict=True
        ):
            out, reason = resolve_text(value, gaiji)
            resolved.append(out)
            if reason is not None:
                reasons[row] = code_index(reason)
        values = values.scatter(suspect_rows, pl.Series(resolved, dtype=pl.Utf8))

    return values, reasons
