"""How an unknown legacy file is cut into records: its newline style and record length, or
that it is a delimited (CSV/TSV) file.

With newlines, the record length is the length every line shares. Without them (a host export
written back to back), the record length is found by the periodicity of its bytes: records of a
fixed layout repeat the same kind of byte at the same position (the record-type code, the
padding, the leading zeros of numbers, the sign half-byte of a packed field), so the share of
bytes equal to the byte one record further on peaks at the record length and its multiples.
Only divisors of the file size can be record lengths, which leaves a handful of candidates; the
shortest one that scores as well as the best is the record length (a multiple of the true length
scores alike; a shorter one does not).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

SAMPLE_BYTES = 4 << 20
MIN_RECORD = 8
MAX_RECORD = 1 << 14
MIN_ROWS = 16  # a length is judged on at least this many records of the sample
PERIODIC_BYTES = 2 << 20
DELIMITERS = (",", "\t", ";", "|")
EOF_MARKER = 0x1A


@dataclass(frozen=True)
class Framing:
    """What `sniff` found out about the records of a file."""

    format: str  # fixed | delimited
    newline: str  # crlf | lf | none
    record_length: int  # fixed: bytes per record without the newline (0 when delimited)
    records: int  # fixed: records in the file; delimited: lines in the sample
    eof_marker: int | None
    confidence: float
    delimiter: str = ""
    quote: str = ""
    candidates: tuple[tuple[int, float], ...] = ()  # newline none: (length, score), best first

    @property
    def stride(self) -> int:
        return self.record_length + {"crlf": 2, "lf": 1, "none": 0}[self.newline]


def read_sample(path: Path, size: int = SAMPLE_BYTES) -> bytes:
    """The first `size` bytes of the file (memory stays bounded whatever the file's size)."""
    with open(path, "rb") as handle:
        return handle.read(size)


def detect_framing(path: Path, sample: bytes) -> Framing:
    """The framing of `path`, judged from `sample` (its first bytes) and its size."""
    size = Path(path).stat().st_size
    with open(path, "rb") as handle:
        handle.seek(max(size - 1, 0))
        last = handle.read(1)
    eof = EOF_MARKER if last == bytes([EOF_MARKER]) else None
    data_size = size - (eof is not None)
    lines = _lines(sample)
    if len(lines) >= 2:
        found = _fixed_lines(lines, sample, data_size, eof) or _delimited(lines, sample, eof)
        if found is not None:
            return found
    return _periodic(sample, data_size, eof)


def _lines(sample: bytes) -> list[bytes]:
    """Complete lines of the sample, newline removed (CR kept, to tell CRLF from LF)."""
    cut = sample.rfind(b"\n")
    return sample[:cut].split(b"\n") if cut >= 0 else []


def _fixed_lines(lines: list[bytes], sample: bytes, data_size: int, eof: int | None
                 ) -> Framing | None:
    crlf = all(line.endswith(b"\r") for line in lines)
    lengths = np.array([len(line) - crlf for line in lines])
    values, counts = np.unique(lengths, return_counts=True)
    length = int(values[np.argmax(counts)])
    share = float(counts.max() / len(lines))
    stride = length + 1 + crlf
    if length < 1 or share < 0.95 or data_size % stride:
        return None
    return Framing("fixed", "crlf" if crlf else "lf", length, data_size // stride, eof, share)


def _split_cells(line: bytes, delimiter: bytes, quote: bytes) -> list[bytes]:
    """Cells of one line, honouring quotes (enough to count them; the reader does the rest)."""
    cells, current, quoted = [], bytearray(), False
    for byte in line:
        char = bytes([byte])
        if char == quote:
            quoted = not quoted
        elif char == delimiter and not quoted:
            cells.append(bytes(current))
            current = bytearray()
            continue
        current += char
    cells.append(bytes(current))
    return cells


def _delimited(lines: list[bytes], sample: bytes, eof: int | None) -> Framing | None:
    crlf = all(line.endswith(b"\r") for line in lines)
    body = [line[:-1] if crlf else line for line in lines[:2000]]
    best = None
    for delimiter in DELIMITERS:
        counts = np.array([len(_split_cells(line, delimiter.encode(), b'"')) for line in body])
        values, times = np.unique(counts, return_counts=True)
        cells = int(values[np.argmax(times)])
        share = float(times.max() / len(body))
        if cells >= 2 and share >= 0.8 and (best is None or share > best[1]):
            best = (delimiter, share)
    if best is None:
        return None
    quote = '"' if any(line.startswith(b'"') or b',"' in line for line in body) else ""
    return Framing("delimited", "crlf" if crlf else "lf", 0, len(lines), eof, best[1],
                   delimiter=best[0], quote=quote)


def _periodic(sample: bytes, data_size: int, eof: int | None) -> Framing:
    """Records written back to back: the record length by periodicity (see the docstring)."""
    data = np.frombuffer(sample[:min(len(sample), data_size, PERIODIC_BYTES)], np.uint8)
    # judge a length on enough records; a small file has only a few
    min_rows = MIN_ROWS if len(data) >= MIN_ROWS * 1024 else 4
    candidates = [n for n in _divisors(data_size)
                  if MIN_RECORD <= n <= min(MAX_RECORD, len(data) // min_rows)]
    scored = {length: _constancy(data, length) for length in candidates}
    if not scored:
        return Framing("fixed", "none", data_size, 1, eof, 0.0)
    best = max(scored, key=lambda n: scored[n])
    # a multiple of the record length scores like it: take the shortest divisor of the best
    # that scores as well
    length = min(n for n in scored if best % n == 0 and scored[n] >= 0.9 * scored[best])
    ranked = tuple(sorted(scored.items(), key=lambda item: -item[1])[:5])
    others = [score for n, score in scored.items() if n % length]
    confidence = scored[length] - max(others, default=0.0)
    return Framing("fixed", "none", length, data_size // length, eof,
                   max(0.0, min(1.0, confidence)), candidates=ranked)


def _constancy(data: np.ndarray, length: int) -> float:
    """The share of a record's byte positions that hold the same byte in at least 80 % of the
    records, with `data` cut into records of `length` bytes: high when the cut matches the
    layout (padding, record-type codes, leading zeros, sign half-bytes line up), near zero
    when it does not (they smear across every position)."""
    rows = len(data) // length
    matrix = data[:rows * length].reshape(rows, length).astype(np.int64)
    counts = np.bincount((matrix * length + np.arange(length)).ravel(),
                         minlength=256 * length).reshape(256, length)
    return float((counts.max(axis=0) >= 0.8 * rows).mean())


def _divisors(n: int) -> list[int]:
    small = [d for d in range(1, int(n ** 0.5) + 1) if n % d == 0]
    return sorted({*small, *(n // d for d in small)})
