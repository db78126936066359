"""`migrate sniff FILE`: guess the layout of a legacy file that came without its layout
document — encoding, framing, record types, candidate fields and their types, the trailer's
record count — from a bounded sample of the file (its first few MB and its last record), and
write a draft mapping that `migrate run` runs as it is (`draft`).

One module per question: `encoding`, `framing`, `records` (record types), `fields` (fixed-width
fields), `delimited` (the cells of a CSV/TSV file), `trailer`, `draft` (the YAML).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from migrate.author.sniff.delimited import CellGuess, guess_cells
from migrate.author.sniff.encoding import EncodingReport, detect_encoding
from migrate.author.sniff.fields import FieldGuess, guess_fields, packed_columns
from migrate.author.sniff.framing import Framing, detect_framing, read_sample
from migrate.author.sniff.records import RecordTypeGuess, detect_record_types
from migrate.author.sniff.trailer import TrailerGuess, guess_trailer
from migrate.errors import UsageError


@dataclass
class SniffReport:
    """Everything sniff found out about a file."""

    path: Path
    size: int
    encoding: EncodingReport
    framing: Framing
    record_types: RecordTypeGuess | None = None
    fields: list[FieldGuess] = field(default_factory=list)
    header_fields: list[FieldGuess] = field(default_factory=list)
    children: dict[str, list[FieldGuess]] = field(default_factory=dict)
    trailer: TrailerGuess | None = None
    cells: CellGuess | None = None  # delimited files


def sniff(path: Path) -> SniffReport:
    """Sniff `path` (see the module docstring); a UsageError when it is missing or empty."""
    path = Path(path)
    if not path.is_file():
        raise UsageError("the input file {path} does not exist", {"path": path},
                         hint="Check the path; give the legacy export file itself, "
                              "not its folder.")
    size = path.stat().st_size
    if size == 0:
        raise UsageError("the input file {path} is empty", {"path": path})
    sample = read_sample(path)
    framing = detect_framing(path, sample)
    if framing.format == "delimited":
        encoding = detect_encoding(sample)
        cells = guess_cells(path, sample, framing, encoding.encoding)
        return SniffReport(path, size, encoding, framing, cells=cells,
                           trailer=cells.trailer)
    stride = framing.stride
    rows = min(len(sample) // stride, framing.records)
    records = np.frombuffer(sample[:rows * stride], np.uint8).reshape(rows, stride)
    records = records[:, :framing.record_length]
    last = _last_record(path, framing)
    rt = detect_record_types(records, last, covers_all=rows == framing.records)
    codes = np.zeros(len(records), "U4") if rt is None else np.array(
        [bytes(r[rt.offset:rt.offset + rt.length]).decode("ascii", "replace") for r in records])
    encoding = detect_encoding(_text_bytes(records, codes))
    report = SniffReport(path, size, encoding, framing, rt)
    if rt is None:
        report.fields = guess_fields(records, encoding.encoding)
        return report
    skip = (rt.offset, rt.length)
    first_data = 1 if rt.header else 0
    report.fields = guess_fields(records[first_data:][codes[first_data:] == rt.data],
                                 encoding.encoding, skip)
    for code in rt.children:
        report.children[code] = guess_fields(records[codes == code], encoding.encoding, skip)
    if rt.header:
        report.header_fields = guess_fields(records[:1], encoding.encoding, skip)
    if rt.trailer:
        data_records = framing.records - (rt.header is not None) - 1
        report.trailer = guess_trailer(last, data_records, skip)
    return report


def _last_record(path: Path, framing: Framing) -> bytes:
    with open(path, "rb") as handle:
        handle.seek(framing.stride * (framing.records - 1))
        return handle.read(framing.record_length)


def _text_bytes(records: np.ndarray, codes: np.ndarray) -> bytes:
    """The bytes of the sample that can be text, a record per line: packed decimals and the
    positions where some record of the same type holds a byte below 0x20 (binary numbers) are
    blanked out, so that they do not count against every encoding."""
    lines = []
    for code in np.unique(codes):
        group = records[codes == code][:2000]
        binary = (group < 0x20).any(axis=0) | packed_columns(group)
        kept = group.copy()
        kept[:, binary] = 0x0A
        lines.extend(bytes(row) for row in kept)
    return b"\n".join(lines)


__all__ = ["SniffReport", "sniff"]
