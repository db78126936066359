"""Verification on the way in: what each batch sent to the database adds up to, and the same
figures computed by the database from its staging table, so the stored rows are proved equal to
the rows sent without re-reading the table (or the Parquet output) into Python.

Per batch, as `migrate.sinks.sql.SqlSink` loads it, `LoadProof.add` sums up: the row count,
per column the non-null count, the sum of numbers and the earliest/latest date, and an
order-free **row-hash sum**. After the load is committed, `staged_proof` asks the database for
the same figures with one aggregate query over the staging table (plus, on SQLite, one stream
of one text per row); `migrate.reconcile.verify_load` compares the two before anything is
published. `migrate reconcile OUT` (the later, independent check: database against the Parquet
file) is unchanged.

Why the figures prove the rows equal. Each row is rendered as one text, the JSON array of its
values **as the database renders it** (`json_array(…)` in SQLite, `json_build_array(…)::text`
in PostgreSQL: numbers as digits, everything else as an escaped string, NULL as null; the
client builds the same text with polars from the values it sent). A JSON array is injective:
quotes and backslashes are escaped and null is not "null", so two rows give the same text only
if every value is equal, in the same column. Each text is hashed to 64 bits and the hashes are
summed as two 32-bit halves: a multiset sum, so the order in which rows were stored (or two
loading streams) does not matter, a duplicated row counts twice, and a lost or changed row
changes the sum except with a probability of about 2^-64 per change. Together with the row
count this proves the staging table holds exactly the multiset of rows sent; the per-column
totals say which column drifted when it does not.

The hash is computed where it is cheapest:

- PostgreSQL: MD5 of the row text's UTF-8 bytes (`md5(convert_to(…, 'UTF8'))`, whatever the
  server encoding), in SQL; only the sums come back. The client hashes its own rows with
  hashlib's MD5, one call per row, on the sink's thread while the COPY stream waits on the
  server. MD5 is used as a checksum here (against accident, not against someone who can write
  the table and knows the scheme); it is in every PostgreSQL without an extension.
- SQLite has no hash function. Registering a Python function would call back into Python for
  every row; instead SQLite renders the row texts (in C) and streams them as one Arrow string
  column through ADBC, and polars hashes both sides with the same fixed seed. The hash is
  polars', compared within this one process only, never stored.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import sqlalchemy as sa

from migrate.layouts import ColumnSpec, Schema
from migrate.sinks.sqlchecks import integer_decimal

NUMERIC = ("int", "decimal", "flag")
DATES = ("date", "partial_date")
HASH_SEED = 0x6C6F6164  # fixed: the SQLite sides are hashed by polars in this one process
TEXT_BATCH = 65_536  # rows per text batch read back from SQLite
_JSON_SPECIAL = r'["\\\x00-\x1f]'  # what JSON escapes in a string
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r",
            "\t": "\\t"}


# ---------------------------------------------------------------- totals, both sides


def plain(value: Any) -> Any:
    """A total as JSON-friendly, comparable text/number."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else str(value.normalize())
    if isinstance(value, date):
        return value.isoformat()
    return value


def totals_of(values: dict[str, Any], schema: Schema) -> dict[str, dict[str, Any]]:
    """Per column {non_null, sum (numbers), min/max (dates)} from flat aggregate values."""
    totals = {}
    for spec in schema.columns:
        entry = {"non_null": int(values[f"n_{spec.name}"] or 0)}
        if spec.dtype in NUMERIC:
            entry["sum"] = plain(values[f"sum_{spec.name}"] or 0)
        if spec.dtype in DATES:
            entry["min"] = plain(values[f"min_{spec.name}"])
            entry["max"] = plain(values[f"max_{spec.name}"])
        totals[spec.name] = entry
    return totals


def db_totals(conn: sa.Connection, schema: Schema, table: str) -> tuple[
        int, dict[str, dict[str, Any]]]:
    """(rows, totals_of) of a table, aggregated by the database in one query."""
    binary = "C" if conn.dialect.name == "postgresql" else None  # byte order, like polars
    text_decimals = conn.dialect.name == "sqlite"  # kept as exact text there (sinks/sql.py)
    exprs: list[sa.ColumnElement] = [sa.func.count().label("rows")]
    for spec in schema.columns:
        col = sa.column(spec.name)
        exprs.append(sa.func.count(col).label(f"n_{spec.name}"))
        if spec.dtype == "decimal" and text_decimals and not integer_decimal(spec):
            units = sa.cast(sa.func.replace(col, ".", ""), sa.BigInteger)  # exact: scaled ints
            exprs.append(sa.func.sum(units).label(f"sum_{spec.name}"))
        elif spec.dtype in NUMERIC:
            exprs.append(sa.func.sum(col).label(f"sum_{spec.name}"))
        if spec.dtype in DATES:
            ordered = col if spec.dtype == "date" or binary is None else sa.collate(col, binary)
            exprs.append(sa.func.min(ordered).label(f"min_{spec.name}"))
            exprs.append(sa.func.max(ordered).label(f"max_{spec.name}"))
    values = dict(conn.execute(sa.select(*exprs).select_from(sa.table(table))).mappings().one())
    for spec in schema.columns:
        if spec.dtype == "decimal" and text_decimals and not integer_decimal(spec) \
                and values[f"sum_{spec.name}"] is not None:
            values[f"sum_{spec.name}"] = Decimal(int(values[f"sum_{spec.name}"])).scaleb(
                -spec.scale)
    return int(values["rows"]), totals_of(values, schema)


def _frame_totals(frame: pl.DataFrame, schema: Schema) -> dict[str, Any]:
    """The flat aggregate values of one batch, as db_totals names them."""
    exprs: list[pl.Expr] = []
    for spec in schema.columns:
        col = pl.col(spec.name)
        exprs.append(col.count().alias(f"n_{spec.name}"))
        if spec.dtype in ("int", "flag"):
            exprs.append(col.cast(pl.Int128).sum().alias(f"sum_{spec.name}"))
        elif spec.dtype == "decimal":
            exprs.append(col.sum().alias(f"sum_{spec.name}"))
        if spec.dtype in DATES:
            exprs.append(col.min().alias(f"min_{spec.name}"))
            exprs.append(col.max().alias(f"max_{spec.name}"))
    return frame.select(exprs).row(0, named=True)


# ---------------------------------------------------------------- the row texts, both sides


def _as_json_number(spec: ColumnSpec, dialect: str) -> bool:
    """Whether the database renders this column as a JSON number (else a JSON string)."""
    if spec.dtype in ("int", "flag"):
        return True
    if spec.dtype == "decimal":  # SQLite keeps a decimal of scale > 0 as text (sinks/sql.py)
        return dialect != "sqlite" or integer_decimal(spec)
    return False


def _escaped(values: pl.Series) -> pl.Series:
    """Text escaped as SQLite's and PostgreSQL's JSON escape it: quotes, backslashes, control
    characters (rare: decoding never lets a control character through)."""
    return values.map_elements(_escape_json, return_dtype=pl.Utf8, skip_nulls=True)


def _escape_json(text: str) -> str:
    return "".join(_ESCAPES.get(c) or (f"\\u{ord(c):04x}" if c < " " else c) for c in text)


def row_texts(frame: pl.DataFrame, schema: Schema, dialect: str) -> pl.Series:
    """Each row of a batch as the JSON array text the database renders for the stored row."""
    strings = [spec.name for spec in schema.columns if not _as_json_number(spec, dialect)]
    texts = frame.select(
        pl.col(name).dt.to_string("%Y-%m-%d") if frame.schema[name] == pl.Date
        else pl.col(name).cast(pl.Utf8) for name in schema.column_names)
    needs_escape = texts.select(pl.col(strings).str.contains(_JSON_SPECIAL).any()).row(0) \
        if strings else ()
    texts = texts.with_columns(_escaped(texts[name]) for name, needed
                               in zip(strings, needs_escape, strict=True) if needed)
    parts = [pl.concat_str([pl.lit('"'), pl.col(name), pl.lit('"')]) if name in strings
             else pl.col(name) for name in schema.column_names]
    separator = ", " if dialect == "postgresql" else ","
    return texts.select(pl.concat_str(
        [pl.lit("["), pl.concat_str([part.fill_null(pl.lit("null")) for part in parts],
                                    separator=separator), pl.lit("]")]).alias("row"))["row"]


def _sql_row_text(schema: Schema, dialect: str, quote) -> str:
    columns = ", ".join(quote(c) for c in schema.column_names)
    if dialect == "postgresql":
        return f"json_build_array({columns})::text"
    return f"json_array({columns})"


# ---------------------------------------------------------------- the row-hash sums


def _md5_sums(texts: pl.Series) -> tuple[int, int]:
    """Sums of the two 32-bit halves of the first 8 bytes of each text's MD5 (UTF-8): one
    hashlib call per row, on slices of the Arrow buffer (no Python string per row)."""
    array = texts.rechunk().to_arrow().cast(pa.large_utf8())
    _, offsets, data = array.buffers()
    bounds = np.frombuffer(offsets, np.int64)[array.offset:array.offset + len(array) + 1]
    view, md5 = memoryview(data), hashlib.md5
    digests = b"".join([md5(view[start:end], usedforsecurity=False).digest()[:8]
                        for start, end in zip(bounds[:-1].tolist(), bounds[1:].tolist(),
                                              strict=True)])
    halves = np.frombuffer(digests, dtype=">u4").astype(np.uint64)
    return int(halves[0::2].sum()), int(halves[1::2].sum())


def _polars_sums(texts: pl.Series) -> tuple[int, int]:
    """Sums of the two 32-bit halves of each text's polars hash (fixed seed)."""
    hashes = texts.hash(seed=HASH_SEED)
    return int((hashes // (1 << 32)).sum() or 0), int((hashes % (1 << 32)).sum() or 0)


def _pg_hash_sums(conn: sa.Connection, schema: Schema, table: str) -> tuple[int, int]:
    quote = conn.dialect.identifier_preparer.quote
    digest = f"md5(convert_to({_sql_row_text(schema, 'postgresql', quote)}, 'UTF8'))"
    halves = [f"sum(('x' || substr({digest}, {start}, 8))::bit(32)::bigint)"
              for start in (1, 9)]
    high, low = conn.exec_driver_sql(
        f"SELECT {', '.join(halves)} FROM {quote(table)}").one()
    return int(high or 0), int(low or 0)


def _sqlite_hash_sums(conn: sa.Connection, schema: Schema, table: str, adbc: Any
                      ) -> tuple[int, int]:
    """SQLite renders the row texts; they come back as Arrow strings (ADBC) or, without
    ADBC (an in-memory database), in batches through the driver."""
    quote = conn.dialect.identifier_preparer.quote
    sql = f"SELECT {_sql_row_text(schema, 'sqlite', quote)} AS row FROM {quote(table)}"
    high = low = 0
    if adbc is not None:
        with adbc.connect(conn.engine.url.database) as connection, \
                connection.cursor() as cursor:
            cursor.execute(sql)
            for batch in cursor.fetch_record_batch():
                part = _polars_sums(pl.Series(batch.column(0)).cast(pl.Utf8))
                high, low = high + part[0], low + part[1]
        return high, low
    result = conn.execution_options(stream_results=True, yield_per=TEXT_BATCH
                                    ).exec_driver_sql(sql)
    for rows in result.partitions():
        part = _polars_sums(pl.Series([r[0] for r in rows], dtype=pl.Utf8))
        high, low = high + part[0], low + part[1]
    return high, low


# ---------------------------------------------------------------- the proof


@dataclass
class LoadProof:
    """Row count, control totals and row-hash sums of the rows sent to one staging table."""

    schema: Schema
    dialect: str
    rows: int = 0
    high: int = 0
    low: int = 0
    values: dict[str, Any] = field(default_factory=dict)  # flat totals, as db_totals names

    def add(self, frame: pl.DataFrame) -> None:
        """Count a batch that is being loaded (the standard columns, as written)."""
        if frame.height == 0:
            return
        texts = row_texts(frame, self.schema, self.dialect)
        high, low = (_md5_sums if self.dialect == "postgresql" else _polars_sums)(texts)
        self.rows += frame.height
        self.high += high
        self.low += low
        self._merge_values(_frame_totals(frame, self.schema))

    def merge(self, other: LoadProof) -> LoadProof:
        """The proof of both loads together (several files of one layout, one table)."""
        merged = LoadProof(self.schema, self.dialect, self.rows + other.rows,
                           self.high + other.high, self.low + other.low, dict(self.values))
        merged._merge_values(other.values)
        return merged

    def _merge_values(self, values: dict[str, Any]) -> None:
        for name, value in values.items():
            old = self.values.get(name)
            if value is None or old is None:
                self.values[name] = old if value is None else value
            elif name.startswith(("n_", "sum_")):
                self.values[name] = old + value
            elif name.startswith("min_"):
                self.values[name] = min(old, value)
            else:
                self.values[name] = max(old, value)

    def totals(self) -> dict[str, dict[str, Any]]:
        return totals_of({k: self.values.get(k) for k in _value_names(self.schema)},
                         self.schema)

    def fingerprint(self) -> str:
        return fingerprint_text(self.rows, self.high, self.low)


def _value_names(schema: Schema) -> list[str]:
    names = []
    for spec in schema.columns:
        names.append(f"n_{spec.name}")
        if spec.dtype in NUMERIC:
            names.append(f"sum_{spec.name}")
        if spec.dtype in DATES:
            names += [f"min_{spec.name}", f"max_{spec.name}"]
    return names


def fingerprint_text(rows: int, high: int, low: int) -> str:
    """rows:sum of high halves:sum of low halves, in hex."""
    return f"{rows}:{high:x}:{low:x}"


@dataclass
class StagedProof:
    """The same figures, computed by the database from the staging table."""

    rows: int
    totals: dict[str, dict[str, Any]]
    fingerprint: str


def staged_proof(conn: sa.Connection, schema: Schema, table: str, adbc: Any = None
                 ) -> StagedProof:
    """Count, totals and row-hash sums of a staging table by aggregate queries (adbc: the
    ADBC SQLite module, to stream SQLite's row texts as Arrow)."""
    rows, totals = db_totals(conn, schema, table)
    if conn.dialect.name == "postgresql":
        high, low = _pg_hash_sums(conn, schema, table)
    else:
        high, low = _sqlite_hash_sums(conn, schema, table, adbc)
    return StagedProof(rows, totals, fingerprint_text(rows, high, low))
