"""Re-check a loaded table in the database against the committed Parquet file, from the sink.

Run after each load, and later on demand (`migrate reconcile OUT_DIR --db URL`) against a database
staff may have touched. Each check is a `reconcile.Invariant`:

- `db_rows:<table>`       rows counted in the database (SELECT COUNT(*)) = records accepted;
- `parquet_rows:<table>`  rows in the Parquet file = records accepted;
- `db_totals:<table>.<column>`  per column, Parquet vs database: the count of non-null values,
  the sum of numeric columns, min/max of date and partial-date columns (aggregated by SQL);
- `db_row_hash:<table>`   an order-independent fingerprint of all rows, Parquet vs database.

The fingerprint: every value is rendered as text the same way on both sides — in the database
by CAST(… AS TEXT) (PostgreSQL: COPY, which uses the same type output; ints as digits, dates
ISO), from the Parquet file by polars (ints as digits, dates %Y-%m-%d), NULL kept as null — then
each row of text values is hashed to 64 bits by polars' hash_rows with fixed seeds (column
boundaries and nulls are part of the hash), and the hashes are summed as two 32-bit halves
(a multiset sum: order-free, and a duplicated row counts twice). The hash is polars' and only
compared within one process, never stored across versions.

When rows or fingerprints differ, a row-level diff by primary key says which keys are missing in
the database, extra in it, or changed (and in which columns, for the first few); key values are
masked where the key column holds personal data.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq
import sqlalchemy as sa
from sqlalchemy.dialects.sqlite import dialect as sqlite_dialect

from migrate.errors import UsageError
from migrate.layouts import ColumnSpec, Schema, load_schema
from migrate.pii import mask
from migrate.reconcile.ledger import Invariant
from migrate.sinks.loadproof import DATES, NUMERIC, db_totals, totals_of
from migrate.sinks.sql import (
    _adbc_sqlite,
    connect,
    create_engine,
    default_sqlite_url,
    parse_url,
    safe_url,
)

# SQL run through ADBC is text: names are quoted by SQLAlchemy's SQLite rules (a `"` doubled),
# never pasted in raw (the layout loader also refuses names that would need quoting).
_SQLITE_QUOTE = sqlite_dialect().identifier_preparer.quote_identifier
BATCH_ROWS = 50_000
DIFF_LIMIT = 20  # keys listed per kind of difference
HASH_SEED = 0x6D696772  # fixed: both sides are hashed in this process


@dataclass
class RowDiff:
    """Which keys differ between the Parquet file and the database (masked for display)."""

    key: tuple[str, ...]
    missing: list[str] = field(default_factory=list)  # in Parquet, not in the database
    extra: list[str] = field(default_factory=list)  # in the database, not in Parquet
    changed: list[tuple[str, list[str]]] = field(default_factory=list)  # key, columns
    missing_total: int = 0
    extra_total: int = 0
    changed_total: int = 0

    @property
    def empty(self) -> bool:
        return not (self.missing_total or self.extra_total or self.changed_total)

    def as_dict(self) -> dict[str, Any]:
        return {"key": list(self.key), "missing_in_database": self.missing,
                "extra_in_database": self.extra,
                "changed": [{"key": k, "columns": c} for k, c in self.changed],
                "missing_total": self.missing_total, "extra_total": self.extra_total,
                "changed_total": self.changed_total}


@dataclass
class DbCheck:
    """The result of re-checking one table."""

    table: str
    url: str  # without password
    invariants: list[Invariant]
    diff: RowDiff | None = None

    @property
    def ok(self) -> bool:
        return all(inv.ok for inv in self.invariants)

    def as_dict(self) -> dict[str, Any]:
        return {"table": self.table, "database": self.url, "ok": self.ok,
                "invariants": [inv.as_dict() for inv in self.invariants],
                "diff": self.diff.as_dict() if self.diff else None}


# ---------------------------------------------------------------- canonical text, both sides


def _canonical(spec: ColumnSpec, dtype: pl.DataType) -> pl.Expr:
    """A Parquet column as the text the database renders for it (CAST(… AS TEXT))."""
    col = pl.col(spec.name)
    if dtype == pl.Date:
        return col.dt.to_string("%Y-%m-%d")
    return col.cast(pl.Utf8)


def _parquet_texts(schema: Schema, paths: list[Path]) -> Iterator[pl.DataFrame]:
    """(key…, columns…) as canonical text, batch by batch (bounded memory), over the Parquet
    outputs of every file that loaded the table."""
    for path in paths:
        # one thread, no pre-buffering: the default read-ahead of several row groups at once
        # made the peak grow with the file (559 vs 311 MiB at 2 GB), for little speed
        parquet = pq.ParquetFile(path, pre_buffer=False)
        for batch in parquet.iter_batches(batch_size=BATCH_ROWS, use_threads=False):
            frame = pl.from_arrow(batch)
            texts = {c.name: _canonical(c, frame.schema[c.name]) for c in schema.columns}
            yield frame.select(*[texts[k].alias(f"key{i}")
                                 for i, k in enumerate(schema.primary_key)],
                               *[texts[c.name].alias(c.name) for c in schema.columns])


def _sql_text(name: str) -> sa.ColumnElement:
    return sa.cast(sa.column(name), sa.Text)


def _text_schema(schema: Schema) -> dict[str, pl.DataType]:
    """The columns of the canonical-text frames: key0…, then the layout's columns."""
    names = [*(f"key{i}" for i in range(len(schema.primary_key))), *schema.column_names]
    return {n: pl.Utf8 for n in names}


def _db_texts(conn: sa.Connection, schema: Schema, table: str) -> Iterator[pl.DataFrame]:
    """The same frames from the database: every value as CAST(… AS TEXT) renders it."""
    text_schema = _text_schema(schema)
    if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg":
        yield from _pg_copy_texts(conn, schema, table, text_schema)
        return
    adbc = _adbc_sqlite(conn.engine)
    if adbc:
        yield from _sqlite_adbc_texts(adbc, conn.engine.url.database, schema, table,
                                      text_schema)
        return
    query = sa.select(*[_sql_text(k).label(f"key{i}") for i, k in enumerate(schema.primary_key)],
                      *[_sql_text(c).label(c) for c in schema.column_names]
                      ).select_from(sa.table(table))
    result = conn.execution_options(stream_results=True, yield_per=BATCH_ROWS).execute(query)
    for rows in result.partitions():
        yield pl.DataFrame(rows, schema=text_schema, orient="row")


def _pg_copy_texts(conn: sa.Connection, schema: Schema, table: str,
                   text_schema: dict[str, pl.DataType]) -> Iterator[pl.DataFrame]:
    """PostgreSQL: COPY (SELECT …) TO STDOUT as CSV — COPY renders values with the types'
    text output, exactly like CAST(… AS TEXT) — parsed by polars. Every CopyData message is one
    row, so batches split on row boundaries; FORCE_QUOTE keeps '' apart from NULL."""
    quote = conn.dialect.identifier_preparer.quote
    columns = ", ".join(quote(c) for c in (*schema.primary_key, *schema.column_names))
    sql = (f"COPY (SELECT {columns} FROM {quote(table)}) TO STDOUT "
           "(FORMAT csv, FORCE_QUOTE *)")
    raw = conn.connection.driver_connection

    def parse(rows: list[bytes]) -> pl.DataFrame:
        return pl.read_csv(b"".join(rows), has_header=False, new_columns=list(text_schema),
                           schema=text_schema, quote_char='"')

    rows: list[bytes] = []
    with raw.cursor() as cursor, cursor.copy(sql) as copy:
        for row in copy:
            rows.append(bytes(row))
            if len(rows) == BATCH_ROWS:
                yield parse(rows)
                rows = []
    if rows:
        yield parse(rows)


def _sqlite_adbc_texts(adbc: Any, database: str, schema: Schema, table: str,
                       text_schema: dict[str, pl.DataType],
                       rowids: tuple[int, int] | None = None) -> Iterator[pl.DataFrame]:
    """SQLite through ADBC: Arrow batches instead of Python tuples (2-3x faster). ADBC infers
    each column's type from the first rows, so a first row of '' makes every column text even
    where the table starts with NULLs; that row is dropped here. rowids: only the rows whose
    rowid is in [first, last]."""
    names = list(text_schema)
    sources = [*schema.primary_key, *schema.column_names]
    first = ", ".join(["0 AS migrate_sentinel"] + [f"'' AS c{i}" for i in range(len(names))])
    texts = ", ".join(f"CAST({_SQLITE_QUOTE(c)} AS TEXT)" for c in sources)
    where = f" WHERE rowid BETWEEN {int(rowids[0])} AND {int(rowids[1])}" if rowids else ""
    sql = f"SELECT {first} UNION ALL SELECT 1, {texts} FROM {_SQLITE_QUOTE(table)}{where}"
    with adbc.connect(database) as connection, connection.cursor() as cursor:
        cursor.execute(sql)
        for batch in cursor.fetch_record_batch():
            frame = pl.from_arrow(batch)
            yield frame.filter(pl.col("migrate_sentinel") == 1).select(
                pl.col(f"c{i}").cast(pl.Utf8).alias(n) for i, n in enumerate(names))


def _hashes(frames: Iterator[pl.DataFrame], schema: Schema) -> pl.DataFrame:
    """(key…, h) for every row: polars' 64-bit hash of the row's canonical text values."""
    keys = [f"key{i}" for i in range(len(schema.primary_key))]
    parts = [f.select(keys).with_columns(
        f.select(schema.column_names).hash_rows(seed=HASH_SEED).alias("h")) for f in frames]
    if not parts:
        return pl.DataFrame(schema={**{k: pl.Utf8 for k in keys}, "h": pl.UInt64})
    return pl.concat(parts)


def _db_fingerprint(engine: sa.Engine, schema: Schema, table: str) -> str:
    """_fingerprint of the table, read on a connection of its own (SQLite: in two halves by
    rowid at once, since one SQLite query runs on one core and the fingerprint is a sum)."""
    adbc = _adbc_sqlite(engine)
    database = engine.url.database
    if adbc:
        with adbc.connect(database) as connection, connection.cursor() as cursor:
            cursor.execute(f"SELECT min(rowid), max(rowid) FROM {_SQLITE_QUOTE(table)}")
            low, high = cursor.fetchone()
        if low is not None:
            text_schema = _text_schema(schema)
            middle = (low + high) // 2
            with ThreadPoolExecutor(2, "verify-db") as pool:
                halves = pool.map(lambda rowids: _fingerprint_sums(_sqlite_adbc_texts(
                    adbc, database, schema, table, text_schema, rowids), schema),
                    [(low, middle), (middle + 1, high)])
                return _fingerprint_text([sum(parts) for parts in zip(*halves, strict=True)])
    with connect(engine) as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET DateStyle TO 'ISO, YMD'")  # CAST(date AS TEXT)
        return _fingerprint(_db_texts(conn, schema, table), schema)


def _fingerprint(frames: Iterator[pl.DataFrame], schema: Schema) -> str:
    """Order-independent fingerprint of all rows, batch by batch: memory stays bounded by the
    batch size (the per-row hashes are only kept when a diff is needed)."""
    return _fingerprint_text(_fingerprint_sums(frames, schema))


def _fingerprint_sums(frames: Iterator[pl.DataFrame], schema: Schema) -> tuple[int, int, int]:
    """(rows, sum of the high 32 bits, sum of the low 32 bits) of the row hashes: sums, so the
    fingerprint of a table is the sum of its parts'."""
    rows = high = low = 0
    for frame in frames:
        h = frame.select(schema.column_names).hash_rows(seed=HASH_SEED)
        part_high, part_low = (h // (1 << 32)).sum(), (h % (1 << 32)).sum()
        rows += frame.height
        high += int(part_high or 0)
        low += int(part_low or 0)
    return rows, high, low


def _fingerprint_text(sums: tuple[int, int, int] | list[int]) -> str:
    rows, high, low = sums
    return f"{rows}:{high:x}:{low:x}"


# ---------------------------------------------------------------- control totals, both sides


def masked_totals(totals: dict[str, Any], spec: ColumnSpec) -> dict[str, Any]:
    """Min/max of a personal column (a birth date) is one person's value: shown masked."""
    if not spec.pii:
        return totals
    return {k: (mask(str(v), spec.pii) if k in ("min", "max") and v is not None else v)
            for k, v in totals.items()}


def _parquet_totals(schema: Schema, path: list[Path]) -> tuple[int, dict[str, dict[str, Any]]]:
    exprs: list[pl.Expr] = [pl.len().alias("rows")]
    for spec in schema.columns:
        col = pl.col(spec.name)
        exprs.append(col.count().alias(f"n_{spec.name}"))
        if spec.dtype in NUMERIC:
            exprs.append(col.sum().alias(f"sum_{spec.name}"))
        if spec.dtype in DATES:
            exprs.append(col.min().alias(f"min_{spec.name}"))
            exprs.append(col.max().alias(f"max_{spec.name}"))
    values = pl.scan_parquet(path).select(exprs).collect(engine="streaming").row(0, named=True)
    return int(values["rows"]), totals_of(values, schema)


# ---------------------------------------------------------------- row-level diff


def _key_display(schema: Schema, values: tuple) -> str:
    return ",".join(str(mask(v, schema.column(k).pii)) for k, v in
                    zip(schema.primary_key, values, strict=True))


def _changed_columns(conn: sa.Connection, schema: Schema, table: str, path: list[Path],
                     keys: list[tuple]) -> dict[tuple, list[str]]:
    """For a few keys: which columns differ (values are not shown: they may be personal)."""
    if not keys or len(schema.primary_key) != 1:
        return {}
    key = schema.primary_key[0]
    wanted = [k[0] for k in keys]
    parquet = pl.scan_parquet(path).filter(pl.col(key).cast(pl.Utf8).is_in(wanted)).collect()
    parquet = parquet.select(_canonical(c, parquet.schema[c.name]).alias(c.name)
                             for c in schema.columns)
    query = (sa.select(*[_sql_text(c.name).label(c.name) for c in schema.columns])
             .select_from(sa.table(table)).where(_sql_text(key).in_(wanted)))
    database = pl.DataFrame([tuple(r) for r in conn.execute(query)],
                            schema={c.name: pl.Utf8 for c in schema.columns}, orient="row")
    left = {r[key]: r for r in parquet.iter_rows(named=True)}
    result = {}
    for row in database.iter_rows(named=True):
        before = left.get(row[key])
        if before is not None:
            result[(row[key],)] = [c for c in schema.column_names if before[c] != row[c]]
    return result


def _diff(conn: sa.Connection, schema: Schema, table: str, path: list[Path],
          parquet: pl.DataFrame, database: pl.DataFrame, limit: int) -> RowDiff:
    keys = [c for c in parquet.columns if c.startswith("key")]
    joined = parquet.join(database, on=keys, how="full", coalesce=True, suffix="_db",
                          nulls_equal=True)
    missing = joined.filter(pl.col("h_db").is_null()).sort(keys)
    extra = joined.filter(pl.col("h").is_null()).sort(keys)
    changed = joined.filter(pl.col("h").is_not_null() & pl.col("h_db").is_not_null()
                            & (pl.col("h") != pl.col("h_db"))).sort(keys)
    first_changed = [tuple(r) for r in changed.select(keys).head(limit).iter_rows()]
    columns = _changed_columns(conn, schema, table, path, first_changed)
    return RowDiff(
        key=schema.primary_key,
        missing=[_key_display(schema, r) for r in missing.select(keys).head(limit).iter_rows()],
        extra=[_key_display(schema, r) for r in extra.select(keys).head(limit).iter_rows()],
        changed=[(_key_display(schema, k), columns.get(k, [])) for k in first_changed],
        missing_total=missing.height, extra_total=extra.height, changed_total=changed.height)


# ---------------------------------------------------------------- the checks


def verify_database(url: str, schema: Schema, parquet_path: Path | list[Path], accepted: int,
                    *, table: str | None = None, diff_limit: int = DIFF_LIMIT,
                    staged: str | None = None) -> DbCheck:
    """Re-count and re-hash the table in the database and compare it with the Parquet file
    (or the Parquet files of all the inputs that loaded the table, in a migration plan).
    staged: read this run's staging table instead (before it replaces the table); the
    invariants keep the table's own name."""
    name = table or schema.name
    table = staged or name
    parquet_path = [parquet_path] if isinstance(parquet_path, Path) else list(parquet_path)
    engine = create_engine(url)
    check = DbCheck(name, safe_url(url), [])
    inv = check.invariants
    try:
        with connect(engine) as conn, ThreadPoolExecutor(3, "verify") as pool:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("SET DateStyle TO 'ISO, YMD'")  # CAST(date AS TEXT)
            if not sa.inspect(conn).has_table(table):
                inv.append(Invariant(f"db_table:{name}", False, "present", "missing",
                                     f"table {name} exists in the database"))
                return check
            # The four reads are independent and each waits on a database or on native code
            # that releases the GIL: run them at once (the row hashes on a connection of their
            # own, made in their thread), so the re-verification takes about the longest one.
            db_print_job = pool.submit(_db_fingerprint, engine, schema, table)
            pq_totals_job = pool.submit(_parquet_totals, schema, parquet_path)
            pq_print_job = pool.submit(
                lambda: _fingerprint(_parquet_texts(schema, parquet_path), schema))
            db_rows, database_totals = db_totals(conn, schema, table)
            pq_rows, pq_totals = pq_totals_job.result()
            inv.append(Invariant(f"db_rows:{name}", db_rows == accepted, accepted, db_rows,
                                 "rows counted in the database = records accepted"))
            inv.append(Invariant(f"parquet_rows:{name}", pq_rows == accepted, accepted, pq_rows,
                                 "rows in the Parquet file = records accepted"))
            for spec in schema.columns:
                expected, actual = pq_totals[spec.name], database_totals[spec.name]
                inv.append(Invariant(
                    f"db_totals:{name}.{spec.name}", expected == actual,
                    masked_totals(expected, spec), masked_totals(actual, spec),
                    "non-null count, sum, min/max of the column: Parquet = database"))
            pq_print, db_print = pq_print_job.result(), db_print_job.result()
            inv.append(Invariant(f"db_row_hash:{name}", pq_print == db_print, pq_print,
                                 db_print, "order-independent hash of all rows: Parquet = "
                                 "database (rows:sum of high 32 bits:sum of low 32 bits)"))
            if not check.ok and schema.primary_key:
                pq_hashes = _hashes(_parquet_texts(schema, parquet_path), schema)
                db_hashes = _hashes(_db_texts(conn, schema, table), schema)
                check.diff = _diff(conn, schema, table, parquet_path, pq_hashes, db_hashes,
                                   diff_limit)
    finally:
        engine.dispose()
    return check


def reconcile_all(out_dir: Path, db_url: str | None = None) -> list[DbCheck]:
    """`migrate reconcile` of a run folder: one check for a single file's run, one per area
    for a migration plan's folder (whose areas share the plan's database)."""
    doc = _run_document(out_dir)
    if "files" not in doc:
        return [reconcile_out_dir(out_dir, db_url)]
    url = db_url or recorded_url(doc) or default_sqlite_url(out_dir)
    by_layout: dict[str, list[dict[str, Any]]] = {}
    try:
        for f in doc["files"]:
            if f.get("status") != "error":
                by_layout.setdefault(str(f["layout"]), []).append(
                    {"name": str(f["name"]), "rows": int(f.get("rows") or 0)})
    except (KeyError, TypeError, ValueError, AttributeError):
        raise _edited(out_dir) from None
    checks = []
    for files in by_layout.values():
        if len(files) == 1:
            checks.append(reconcile_out_dir(out_dir / files[0]["name"], url))
            continue
        # several files loaded one table: compare it with all their Parquet outputs at once
        schema = _schema_of(_run_document(out_dir / files[0]["name"]))
        parquets = [out_dir / f["name"] / f"{schema.name}.parquet" for f in files]
        _check_parquet(parquets)
        checks.append(verify_database(url, schema, parquets, sum(f["rows"] for f in files)))
    return checks


def _edited(out_dir: Path) -> UsageError:
    return UsageError("{path} lacks what the run recorded (its reconciliation or files)",
                      {"path": out_dir / "run.json"},
                      hint="Give the folder that `migrate run --out` wrote, with its run.json "
                           "as the run left it.")


def _check_parquet(paths: list[Path]) -> None:
    """Each Parquet output is readable (a damaged file is the folder's problem, not a bug)."""
    for path in paths:
        try:
            pq.read_metadata(path)
        except (OSError, ValueError) as exc:
            raise UsageError("{path} is not a readable Parquet file: {reason}",
                             {"path": path, "reason": str(exc).splitlines()[0] if str(exc)
                              else type(exc).__name__},
                             hint="Restore it from a copy of the run's folder; run.json holds "
                                  "its SHA-256.") from None


def _schema_of(doc: dict[str, Any]) -> Schema:
    """The layout a run.json was written for: its file if still there, else by id."""
    info = doc.get("schema") or {}
    path = Path(info.get("path") or "")
    return load_schema(path if path.is_file() else str(info.get("id")))


def _run_document(out_dir: Path) -> dict[str, Any]:
    run_json = out_dir / "run.json"
    if not out_dir.is_dir():
        raise UsageError("the output folder {path} does not exist", {"path": out_dir},
                         hint="Give the folder that `migrate run --out` wrote.")
    try:
        return json.loads(run_json.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError("{path} does not exist", {"path": run_json},
                         hint="Give the folder that `migrate run --out` wrote.") from None
    except (OSError, ValueError) as exc:
        raise UsageError("cannot read {path}: {reason}", {"path": run_json, "reason": str(exc)},
                         hint="Give the folder that `migrate run --out` wrote.") from None


def reconcile_out_dir(out_dir: Path, db_url: str | None = None) -> DbCheck:
    """`migrate reconcile`: re-check a finished run's database against its Parquet output.
    An area folder of a migration plan uses the plan's database one folder up."""
    doc = _run_document(out_dir)
    if db_url is None and not (out_dir / "migrate.db").is_file() \
            and (out_dir.parent / "migrate.db").is_file() \
            and (out_dir.parent / "run.json").is_file():
        plan = _run_document(out_dir.parent)
        if "files" in plan:
            db_url = recorded_url(plan) or default_sqlite_url(out_dir.parent)
    schema = _schema_of(doc)
    parquet = out_dir / f"{schema.name}.parquet"
    if not parquet.is_file():
        raise UsageError("{path} does not exist", {"path": parquet},
                         hint="The Parquet output of the run is what the database is compared "
                              "with; restore it from the run's folder.")
    _check_parquet([parquet])
    url = db_url or recorded_url(doc) or default_sqlite_url(out_dir)
    parsed = parse_url(url)
    if parsed is not None and parsed.get_backend_name() == "sqlite" and \
            parsed.database and not Path(parsed.database).is_file():
        raise UsageError("the database file {path} does not exist", {"path": parsed.database},
                         hint="Give the database of the run with --db URL.")
    try:
        accepted = int(doc["reconciliation"].get("rows", doc["reconciliation"]["accepted"]))
    except (KeyError, TypeError, ValueError, AttributeError):
        raise _edited(out_dir) from None
    return verify_database(url, schema, parquet, accepted)


def recorded_url(doc: dict[str, Any]) -> str | None:
    """The database URL run.json recorded (`"database": {"url": …}`), unless it is SQLite (the
    file is looked up next to run.json, so a moved folder still works) or its password was
    hidden (then --db must say it)."""
    url = (doc.get("database") or {}).get("url")
    if not isinstance(url, str) or "***" in url or url.startswith("sqlite"):
        return None
    return url
