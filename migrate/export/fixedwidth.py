"""A designated fixed-width format written back from the standard data: a mapping run in reverse.

Each standard column goes back into the field it came from (migrate.transform.encode does the
bytes): code tables in reverse (the first vendor code of each standard code), full-width kana
back to half-width, characters the encoding lacks back to their 外字 codes, 和暦 and YYYYMMDD
dates with 00 for unknown parts, packed and zoned decimals, digits as text. Records come in
`src_record` order between a header (its mapped columns from the rows, the others from the
run's run.json when there is one) and a trailer whose count and control totals are recomputed.

What the standard data no longer knows is not invented: a field that feeds no column is written
as spaces, a text field is padded with full-width spaces when the batch's values of that field
hold double-byte characters and with spaces otherwise. A mapping that cannot be reversed (child
records gathered by `where`, a delimited source) is refused with the reason.

The generator (migrate.synth) has a record writer too, but it sits on the same layer as this
package and may not be imported from here; both build on migrate.transform.encode.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jaconv
import numpy as np
import polars as pl

from migrate.errors import UsageError
from migrate.layouts import FieldSpec, Mapping
from migrate.sinks.atomic import private_open
from migrate.transform.encode import (
    encode_binary,
    encode_digits,
    encode_packed,
    encode_text,
    encode_wareki,
    encode_ymd,
    encode_zoned,
)

SPACE = 0x20
FULL_SPACE = "\u3000"


def _ibm_forms(encoding: str) -> dict[str, bytes]:
    """cp932 writes 髙, 﨑 and the other IBM extension kanji as NEC-selected codes (0xED/0xEE);
    a mainframe-style export writes the IBM codes (0xFA-0xFC), which decode the same: the
    characters whose NEC form the codec picks, with their IBM bytes."""
    if encoding.replace("-", "").replace("_", "").lower() not in ("cp932", "windows31j",
                                                                 "ms932", "mskanji"):
        return {}
    forms: dict[str, bytes] = {}
    for lead in (0xFA, 0xFB, 0xFC):
        for trail in range(0x40, 0xFD):
            raw = bytes([lead, trail])
            try:
                char = raw.decode(encoding)
            except UnicodeDecodeError:
                continue
            if char.encode(encoding)[:1] in (b"\xed", b"\xee"):
                forms[char] = raw
    return forms


def check_reversible(mapping: Mapping) -> None:
    if mapping.source.delimited or mapping.source.format != "fixed":
        raise UsageError("the mapping {mapping} does not describe a fixed-width file",
                         {"mapping": mapping.id},
                         hint="--format fixed writes the layout of a fixed-width mapping.")
    for cm in mapping.columns:
        if cm.kind == "child":
            raise UsageError(
                "the mapping {mapping} cannot be reversed: column {column} is gathered from "
                "child records ({record}) by where/aggregate", {"mapping": mapping.id,
                                                                 "column": cm.column,
                                                                 "record": cm.record},
                hint="A standard row cannot be split back into the child records it was "
                     "gathered from; export this layout as CSV or Parquet.")
        if cm.split:
            raise UsageError(
                "the mapping {mapping} cannot be reversed: column {column} is a part of the "
                "address field {field}", {"mapping": mapping.id, "column": cm.column,
                                          "field": cm.source},
                hint="Export this layout as CSV or Parquet.")
        if cm.kind == "codes":
            raise UsageError(
                "the mapping {mapping} cannot be reversed: column {column} comes from a code "
                "table keyed by several fields", {"mapping": mapping.id, "column": cm.column},
                hint="A standard code cannot tell which combination of vendor values it came "
                     "from; export this layout as CSV or Parquet.")


def _dates(values: pl.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month, day of dates or partial dates (YYYY[-MM[-DD]]); 0 = unknown or none."""
    text = values.cast(pl.Utf8).fill_null("")
    parts = text.str.split_exact("-", 2).struct.unnest()
    as_int = [parts[name].cast(pl.Int64, strict=False).fill_null(0).to_numpy()
              for name in parts.columns]
    return as_int[0], as_int[1], as_int[2]


def _ints(values: pl.Series, scale: int) -> tuple[np.ndarray, np.ndarray]:
    """Integers (decimals times 10^scale) and where a value is present."""
    present = values.is_not_null().to_numpy()
    if values.dtype == pl.Utf8:
        numbers = values.str.strip_chars().cast(pl.Int64, strict=False)
    elif isinstance(values.dtype, pl.Decimal):
        numbers = (values.cast(pl.Float64) * 10**scale).round(0).cast(pl.Int64)
    else:
        numbers = values.cast(pl.Int64)
    return numbers.fill_null(0).to_numpy(), present


class FixedWriter:
    """Encodes frames of standard rows into records of one mapping."""

    def __init__(self, mapping: Mapping, header_values: dict[str, Any] | None = None):
        check_reversible(mapping)
        self.mapping = mapping
        self.source = mapping.source
        self.header_values = header_values or {}
        self.gaiji = {char: pua for pua, char in self.source.gaiji.items()}
        self.ibm = _ibm_forms(self.source.encoding)
        self.ibm_chars = re.compile("[" + re.escape("".join(self.ibm)) + "]") if self.ibm \
            else None
        self.field_column: dict[str, Any] = {}  # field → its (first) column mapping
        self.header_column: dict[str, str] = {}  # header field → column
        for cm in mapping.columns:
            if cm.kind == "field" and cm.source:
                self.field_column.setdefault(cm.source, cm)
            elif cm.kind == "header" and cm.source:
                self.header_column.setdefault(cm.source, cm.column)
        self.record_column = next((cm.column for cm in mapping.columns
                                   if cm.kind == "record_number"), None)
        self.reverse_codes = {}
        for cm in self.field_column.values():
            if cm.codes is not None:
                table: dict[str, str] = {}
                for vendor, standard in cm.codes.mapping.items():
                    table.setdefault(standard, vendor)
                self.reverse_codes[cm.column] = table
        self.count = 0
        self.totals = dict.fromkeys(mapping.trailer.control_totals, 0) if mapping.trailer \
            else {}

    # -- one field

    def _texts(self, values: pl.Series, cm: Any) -> list[str | None]:
        texts = values.cast(pl.Utf8).to_list()
        if cm is not None and cm.column in self.reverse_codes:
            table = self.reverse_codes[cm.column]
            texts = [None if v is None else table.get(v, v) for v in texts]
        if cm is not None and cm.kana == "fullwidth":
            texts = [None if v is None else jaconv.z2h(v, kana=True, ascii=False, digit=False)
                     for v in texts]
        if self.gaiji:
            texts = [None if v is None else "".join(self._char(c) for c in v) for v in texts]
        return texts

    def _char(self, char: str) -> str:
        try:
            char.encode(self.source.encoding)
            return char
        except UnicodeEncodeError:
            return self.gaiji.get(char, char)

    def encode(self, spec: FieldSpec, values: pl.Series, cm: Any = None,
               signed: bool = True) -> np.ndarray:
        if spec.type == "digits" and values.dtype.is_integer():  # a count: zero-padded
            return encode_digits(values.fill_null(0).to_numpy(), spec.length)
        if spec.type in ("text", "digits"):
            texts = self._texts(values, cm)
            if spec.type == "digits":
                return encode_text(texts, spec.length, encoding="ascii", pad="half")
            double = any(v is not None and len(v.encode(self.source.encoding, "replace"))
                         > len(v) for v in texts)
            pad = "full" if double else "half"
            cells = encode_text(texts, spec.length, encoding=self.source.encoding, pad=pad)
            if self.ibm_chars is not None:
                for row, text in enumerate(texts):
                    if text is not None and self.ibm_chars.search(text):
                        cells[row] = self._ibm_cell(text, spec.length, pad)
            return cells
        if spec.type in ("wareki", "ymd"):
            y, m, d = _dates(values)
            if spec.type == "wareki":
                return encode_wareki(y, m, d, eras=self.source.eras)
            return encode_ymd(y, m, d)
        numbers, present = _ints(values, spec.scale)
        if spec.type == "packed":
            return encode_packed(numbers, spec.length)
        if spec.type == "binary":
            return encode_binary(numbers, spec.length)
        if spec.type == "zoned":
            cells = encode_zoned(numbers, spec.length, signed=signed)
            cells[~present] = SPACE
            return cells
        raise UsageError("the field {field} has type {type}, which cannot be written back",
                         {"field": spec.name, "type": spec.type}, file=self.mapping.path)

    def _ibm_cell(self, text: str, width: int, pad: str) -> np.ndarray:
        """One text cell with IBM extension codes, padded as encode_text pads."""
        encoding = self.source.encoding
        raw = b"".join(self.ibm.get(c) or c.encode(encoding) for c in text)
        unit = FULL_SPACE.encode(encoding) if pad == "full" else b" "
        raw += unit * ((width - len(raw)) // len(unit))
        return np.frombuffer(raw.ljust(width, b" "), np.uint8)

    # -- records

    def _frame(self, n: int, kind: str | None) -> np.ndarray:
        records = np.full((n, self.source.stride), SPACE, np.uint8)
        records[:, self.source.record_length:] = np.frombuffer(self.source.newline, np.uint8)
        rt = self.source.record_types
        if rt is not None and kind is not None:
            records[:, rt.offset:rt.offset + rt.length] = np.frombuffer(kind.encode("ascii"),
                                                                        np.uint8)
        return records

    def data(self, frame: pl.DataFrame) -> bytes:
        rt = self.source.record_types
        records = self._frame(frame.height, rt.data if rt else None)
        for name, spec in self.mapping.fields.items():
            cm = self.field_column.get(name)
            if cm is None or cm.column not in frame.columns:
                continue
            try:
                records[:, spec.offset:spec.end] = self.encode(spec, frame[cm.column], cm)
            except ValueError as error:
                raise UsageError("column {column} cannot be written into field {field}: "
                                 "{reason}", {"column": cm.column, "field": name,
                                              "reason": str(error)},
                                 file=self.mapping.path, field_name=name) from None
            if name in self.totals:
                self.totals[name] += int(_ints(frame[cm.column], spec.scale)[0].sum())
        self.count += frame.height
        return records.tobytes()

    def header(self, first: pl.DataFrame | None) -> bytes:
        rt = self.source.record_types
        if rt is None or rt.header is None:
            return b""
        record = self._frame(1, rt.header)
        for name, spec in self.mapping.header_fields.items():
            column = self.header_column.get(name)
            if column is not None and first is not None and first.height:
                value = first[column].head(1)
            elif name in self.header_values:
                value = pl.Series([self.header_values[name]])
            else:
                continue
            record[:, spec.offset:spec.end] = self.encode(spec, value, signed=False)
        return record.tobytes()

    def trailer(self) -> bytes:
        rt = self.source.record_types
        trailer = self.mapping.trailer
        if rt is None or rt.trailer is None:
            return b""
        record = self._frame(1, rt.trailer)
        if trailer is not None:
            specs = [(trailer.count, self.count)] if trailer.count else []
            specs += [(spec, self.totals[name]) for name, spec in
                      trailer.control_totals.items()]
            for spec, number in specs:
                record[:, spec.offset:spec.end] = self.encode(spec, pl.Series([number]),
                                                              signed=False)
        return record.tobytes()


def write_fixed(frames: Iterator[pl.DataFrame], mapping: Mapping, target: Path,
                header_values: dict[str, Any] | None = None) -> tuple[int, int, str]:
    """Write the legacy file; returns (data records, bytes, sha256)."""
    writer = FixedWriter(mapping, header_values)
    digest = hashlib.sha256()
    size = 0
    first: pl.DataFrame | None = None
    with private_open(target, "wb") as handle:
        # the header needs the first rows; it is written before them
        pending: list[bytes] = []
        for frame in frames:
            if writer.record_column and writer.record_column in frame.columns:
                frame = frame.sort(writer.record_column)
            if first is None:
                first = frame.head(1)
                pending.append(writer.header(first))
            pending.append(writer.data(frame))
            for block in pending:
                handle.write(block)
                digest.update(block)
                size += len(block)
            pending = []
        if first is None:
            pending.append(writer.header(None))
        pending.append(writer.trailer())
        for block in pending:
            handle.write(block)
            digest.update(block)
            size += len(block)
    return writer.count, size, digest.hexdigest()
