"""Read standard-layout files batch by batch, typed by the layout (bounded memory).

CSV is read as text and cast column by column with the layout's dtypes, so a cell that does not
fit its type is found (and named) instead of failing the whole read; Parquet is typed already.
A CSV in another encoding than UTF-8 (or with a BOM) is first transcoded, streaming, to a
temporary UTF-8 copy, because the CSV reader only reads UTF-8.
"""

from __future__ import annotations

import codecs
import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from migrate.layouts import ColumnSpec, Schema
from migrate.sinks.atomic import private_open
from migrate.transform.mapper import polars_dtype

BATCH_ROWS = 50_000
ROW_GROUP_ROWS = 300_000  # a row group this large or smaller is read whole
BLOCK_BYTES = 16 << 20  # CSV bytes parsed at a time (about 30,000 rows of a layout)
COPY_BYTES = 1 << 20
UTF8_BOM = codecs.BOM_UTF8


def cast_expr(text: pl.Expr, spec: ColumnSpec) -> pl.Expr:
    """A text column cast to the layout dtype of its column; cells that do not fit become null."""
    target = polars_dtype(spec)
    if target == pl.Utf8:
        return text
    if spec.dtype == "date":
        return text.str.to_date("%Y-%m-%d", strict=False)
    return text.str.strip_chars().cast(target, strict=False)


def cast_column(text: pl.Series, spec: ColumnSpec) -> pl.Series:
    """cast_expr on one Series."""
    return text.to_frame("v").select(cast_expr(pl.col("v").cast(pl.Utf8), spec)).to_series() \
        .alias(text.name)


def cast_frame(frame: pl.DataFrame, schema: Schema) -> tuple[pl.DataFrame, dict[str, pl.Series]]:
    """Cast every layout column of a text frame; returns the typed frame and, per column, the
    mask of cells that had a value which does not fit the type."""
    typed = {}
    bad: dict[str, pl.Series] = {}
    for spec in schema.columns:
        if spec.name not in frame.columns:
            continue
        text = frame[spec.name]
        cast = cast_column(text, spec)
        typed[spec.name] = cast
        failed = text.is_not_null() & (text != "") & cast.is_null()
        if failed.any():
            bad[spec.name] = failed
    return frame.with_columns(**typed), bad


@contextmanager
def utf8_copy(path: Path, encoding: str, scratch: Path) -> Iterator[Path]:
    """The path of a UTF-8 (no BOM) version of a CSV file: the file itself when it is one,
    else a temporary transcoded copy in `scratch` (removed afterwards)."""
    with open(path, "rb") as handle:
        starts_with_bom = handle.read(3) == UTF8_BOM
    name = encoding.lower().replace("_", "-")
    if name in ("utf-8", "utf8") and not starts_with_bom:
        yield path
        return
    copy = scratch / f".{path.name}.utf8"
    decoder = codecs.getincrementaldecoder("utf-8-sig" if name in ("utf-8", "utf8")
                                           else encoding)(errors="strict")
    try:
        with open(path, "rb") as source, private_open(copy, "wb") as target:
            while block := source.read(COPY_BYTES):
                target.write(decoder.decode(block).encode("utf-8"))
            target.write(decoder.decode(b"", final=True).encode("utf-8"))
        yield copy
    finally:
        copy.unlink(missing_ok=True)


def _record_end(data: bytes, start: int = 0, last: bool = True) -> int:
    """The index after the last (or first) line break of `data[start:]` that ends a record:
    one with an even number of quotes before it (a quoted cell may hold line breaks; "" inside
    quotes keeps the count even); 0 when there is none."""
    end, begin = len(data), start
    while True:
        at = data.rfind(b"\n", start, end) if last else data.find(b"\n", begin)
        if at < 0:
            return 0
        if data.count(b'"', start, at) % 2 == 0:
            return at + 1
        if last:
            end = at
        else:
            begin = at + 1


def text_batches(path: Path, block: int = BLOCK_BYTES) -> Iterator[pl.DataFrame]:
    """A UTF-8 CSV file as frames of text columns (empty cell = null), about `block` bytes of
    whole records at a time. Each block is cut after its last complete record and parsed on
    its own, so memory is that of one block whatever the file's size (polars' streaming CSV
    reader, used before, held some 300 MB of read-ahead, more as the file grew)."""
    names = csv_header(path)
    schema = dict.fromkeys(names, pl.Utf8)
    with open(path, "rb") as handle:
        carry, header = b"", True
        while True:
            chunk = handle.read(block)
            data = carry + chunk
            if header:  # the first record is the header line
                end = _record_end(data, last=False)
                if not end and chunk:
                    carry = data
                    continue
                data, header = (data[end:] if end else b""), False
            cut = _record_end(data) if chunk else len(data)
            if cut and data[:cut].strip():
                yield pl.read_csv(io.BytesIO(data[:cut]), has_header=False, new_columns=names,
                                  schema=schema)
            carry = data[cut:]
            if not chunk:
                return


def compact(frame: pl.DataFrame) -> pl.DataFrame:
    """A copy holding only its own values: polars' strings are views into the buffers of the
    frame they were selected or filtered from, so a few rows kept from each batch would keep
    every batch alive."""
    return pl.DataFrame(pl.from_arrow(frame.to_arrow(compat_level=pl.CompatLevel.oldest())))


def csv_header(path: Path) -> list[str]:
    """The column names on the first line of a UTF-8 CSV file."""
    return pl.scan_csv(path, infer_schema=False, n_rows=0).collect_schema().names()


def parquet_batches(path: Path, size: int = BATCH_ROWS) -> Iterator[pl.DataFrame]:
    """A Parquet file as polars frames of at most `size` rows, none across a row group: read
    by polars (faster than pyarrow) when no row group is larger than ROW_GROUP_ROWS, else by
    pyarrow, without pre-buffering (which keeps every row group it has read)."""
    reader = pq.ParquetFile(path, pre_buffer=False)
    meta = reader.metadata
    groups = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
    if groups and max(groups) <= ROW_GROUP_ROWS:
        scan, start = pl.scan_parquet(path), 0
        for rows in groups:
            for offset in range(0, rows, size):
                yield scan.slice(start + offset, min(size, rows - offset)).collect()
            start += rows
        return
    for batch in reader.iter_batches(batch_size=size):
        yield pl.from_arrow(batch)  # type: ignore[misc]


def typed_batches(path: Path, fmt: str, schema: Schema | None,
                  size: int = BATCH_ROWS) -> Iterator[pl.DataFrame]:
    """Frames typed by the layout (cells that do not fit become null); text without a layout."""
    if fmt == "parquet":
        yield from parquet_batches(path, size)
        return
    for frame in text_batches(path):
        yield cast_frame(frame, schema)[0] if schema is not None else frame


def count_rows(path: Path, fmt: str) -> int:
    """Data rows of a UTF-8 CSV file (header excluded) or of a Parquet file."""
    if fmt == "parquet":
        return pq.ParquetFile(path).metadata.num_rows
    return int(pl.scan_csv(path, infer_schema=False).select(pl.len()).collect().item())
