"""Load standardized rows into a database through SQLAlchemy; tables come from the schema YAML.

A run loads each layout into a staging table named for the run (`juki__staging_<run id>`):
`write` bulk-loads each chunk (PostgreSQL: `COPY … FROM STDIN` in CSV format streamed from the
polars chunk; SQLite: the chunk's Arrow data through the ADBC SQLite driver, or driver-level
executemany without it), and `commit` commits the load, so that the staging table can be
verified from other connections **before** it replaces anything: each batch is summed up on its
way in (`migrate.sinks.loadproof`) and the database computes the same sums from the table. Only when the
whole run (or plan) reconciles does `migrate.sinks.swap.publish_tables` replace every table by its staging table,
in one transaction; otherwise `discard_tables` drops the staging tables and the previous tables
stay exactly as they were. A re-run replaces a whole table: it can never duplicate rows.

Constraint names are explicit and carry the final table's name from the start, in the staging
table too (`<table>_pkey`, `<table>_<column>_len`, `_code` for a code list, `_range` for
min/max, `_form` for a partial date, `_fkey`): CHECK and FOREIGN KEY names are per table in
SQLite and PostgreSQL, and PostgreSQL's primary key (whose index name is per schema) is added at
publish. Decimals are NUMERIC(p,s); SQLite has no exact decimal, so there a decimal of scale 0 is
INTEGER and any other the exact text of the decimal. Old tables are dropped without CASCADE: foreign keys of other tables that point at them
are dropped and re-created (and so re-validated) inside the publishing transaction, and any
other dependent object (a view) makes the publish fail and roll back rather than vanish.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from migrate.errors import UsageError
from migrate.layouts import ColumnSpec, Schema
from migrate.pii import mask_secrets, mask_url
from migrate.sinks.atomic import private_open
from migrate.sinks.copystreams import STREAMS, CopySession
from migrate.sinks.loadproof import LoadProof
from migrate.sinks.sqlchecks import integer_decimal, length_check, value_checks

BATCH_ROWS = 20_000  # executemany batch (SQLite, other drivers)
STAGING_SUFFIX = "__staging"
USE_ADBC = True  # SQLite through the ADBC driver when it is installed (tests switch it off)


def sql_type(spec: ColumnSpec) -> sa.types.TypeEngine:
    """SQL column type of a standard column."""
    if spec.dtype in ("str", "digits", "code"):
        length = spec.length or spec.max_length
        if spec.dtype == "code" and spec.codes:
            length = max(len(c) for c in spec.codes)
        if spec.dtype == "str" and length:
            # room for a variation selector after each character, which VARCHAR counts as a
            # character of its own; the CHECK <table>_<column>_len holds the layout's length
            length *= 2
        return sa.String(length) if length else sa.Text()
    if spec.dtype == "decimal":
        # SQLite has no exact decimal type: NUMERIC would turn '12.30' into the float 12.3.
        # Whole numbers (scale 0) are INTEGER there; the exact text (always `scale` digits
        # after the point) is kept otherwise.
        sqlite = sa.Integer() if integer_decimal(spec) else sa.Text()
        return sa.Numeric(spec.precision or 18, spec.scale).with_variant(sqlite, "sqlite")
    return {
        "int": sa.BigInteger(), "date": sa.Date(), "partial_date": sa.String(10),
        "flag": sa.SmallInteger(),
    }[spec.dtype]


def table_name_of(layout_id: str) -> str:
    """The database table of a layout: juki/v1 → juki (as the output files are named)."""
    return layout_id.split("/")[0]


def table_for(schema: Schema, metadata: sa.MetaData, name: str | None = None, *,
              keys: bool = True, foreign_keys: set[str] | None = None,
              constraint_prefix: str | None = None, dialect: str | None = None) -> sa.Table:
    """The SQLAlchemy table of a standard layout: PK, NOT NULL, lengths, code lists, min/max,
    partial-date forms, references — all from the YAML. Lengths are CHECK constraints too
    because SQLite does not enforce VARCHAR(n).
    keys=False leaves out the primary and foreign keys (added after a bulk load).
    foreign_keys: the layouts whose tables this run loads (None = all); a reference to another
    layout, or a conditional one (住登外 rows are not in the referenced table), gets no
    FOREIGN KEY: the pipeline checks those per record instead.
    constraint_prefix: what constraint names start with (default: the table's name); a staging
    table passes its final table's name, since CHECK and FOREIGN KEY names are per table.
    dialect: the database ('sqlite', 'postgresql'), for the CHECKs that differ between them."""
    name = name or schema.name
    prefix = constraint_prefix or name
    columns = [sa.Column(spec.name, sql_type(spec), nullable=not spec.required,
                         comment=spec.ja) for spec in schema.columns]
    constraints: list[sa.Constraint] = []
    if schema.primary_key and keys:
        constraints.append(sa.PrimaryKeyConstraint(*schema.primary_key, name=f"{prefix}_pkey"))
    for spec in schema.columns:
        length = length_check(spec, dialect)
        if length is not None:
            constraints.append(sa.CheckConstraint(length, name=f"{prefix}_{spec.name}_len"))
        for suffix, condition in value_checks(spec, dialect):
            constraints.append(sa.CheckConstraint(condition, name=f"{prefix}_{spec.name}_{suffix}"))
        ref = spec.references
        if ref is not None and keys and not ref.unless and (
                foreign_keys is None or ref.layout in foreign_keys):
            target = table_name_of(ref.layout)
            if target == schema.name:  # a reference inside the layout follows the rename
                target = name
            elif target not in metadata.tables:  # SQLAlchemy needs the target's column types
                sa.Table(target, metadata, *(sa.Column(there, sql_type(schema.column(here)))
                                             for here, there in zip(ref.columns,
                                                                    ref.target_columns, strict=True)))
            constraints.append(sa.ForeignKeyConstraint(
                list(ref.columns), [f"{target}.{c}" for c in ref.target_columns],
                name=f"{prefix}_{spec.name}_fkey"))
    return sa.Table(name, metadata, *columns, *constraints, comment=schema.title_ja)


def default_sqlite_url(out_dir: Path) -> str:
    return f"sqlite:///{(out_dir / 'migrate.db').resolve()}"


def safe_url(url: str | sa.URL) -> str:
    """The URL for messages and run.json: no password, in whatever form it was written (the
    text is masked as given, not parsed: `u:pw@host` without a scheme, or a password with an
    unescaped `@`, would otherwise leak part of it)."""
    text = url if isinstance(url, str) else url.render_as_string(hide_password=False)
    return mask_url(text)


def parse_url(url: str) -> sa.URL:
    """The URL parsed, or a UsageError that shows it masked."""
    try:
        return make_url(url)
    except (sa.exc.ArgumentError, ValueError, TypeError) as exc:
        hint = ("Use e.g. sqlite:///out/migrate.db or postgresql+psycopg://user@host:5432/db, "
                "or none.")
        if isinstance(exc, ValueError) and "int()" in str(exc):
            raise UsageError("the port in the database URL {url} is not a number",
                             {"url": mask_url(url)}, hint=hint) from None
        raise UsageError("'{url}' is not a database URL", {"url": mask_url(url)},
                         hint=hint) from None


def _sqlite_file(parsed: sa.URL) -> None:
    """A SQLite database file is created owner-only first; a folder, a missing or read-only
    parent is a UsageError, before anything else runs."""
    if parsed.database in (None, "", ":memory:") or parsed.database.startswith("file:"):
        return
    path = Path(parsed.database)
    hint = ("Give a database file whose folder exists and is writable, e.g. "
            "sqlite:///out/migrate.db.")
    if path.is_dir():
        raise UsageError("the SQLite database {path} is a folder", {"path": path},
                         hint="Name a file in it, e.g. sqlite:///{path}/migrate.db.",
                         hint_params={"path": path})
    if path.exists():
        if not path.is_file():
            raise UsageError("the SQLite database {path} is not a regular file", {"path": path},
                             hint=hint)
        try:
            with open(path, "rb") as handle:
                head = handle.read(16)
        except OSError as exc:
            raise UsageError("cannot read the SQLite database {path}: {reason}",
                             {"path": path, "reason": exc.strerror or type(exc).__name__},
                             hint=hint) from None
        if head and head != b"SQLite format 3\x00":
            raise UsageError("{path} is not a SQLite database", {"path": path},
                             hint="Give another --db, or move the file away; it is left as it "
                                  "is.")
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        private_open(path, "wb").close()
    except OSError as exc:
        raise UsageError("cannot create the SQLite database {path}: {reason}",
                         {"path": path, "reason": exc.strerror or type(exc).__name__},
                         hint=hint) from None


def _sqlite_transactions(engine: sa.Engine) -> None:
    """Let SQLAlchemy, not the sqlite3 module, open transactions, so DDL (CREATE, DROP, ALTER)
    is transactional too (SQLAlchemy's documented recipe for pysqlite)."""

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA cache_size = -65536")  # 64 MiB page cache; durability unchanged
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        conn.exec_driver_sql("BEGIN")


def create_engine(url: str) -> sa.Engine:
    """An engine for a URL; a new SQLite file is created owner-only first."""
    parsed = parse_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        _sqlite_file(parsed)
    kwargs: dict[str, Any] = {}
    if backend == "postgresql" and parsed.get_driver_name() == "psycopg":
        kwargs["connect_args"] = {"client_encoding": "utf8"}
    try:
        engine = sa.create_engine(url, **kwargs)
    except ModuleNotFoundError as exc:
        if backend == "postgresql":
            raise UsageError("cannot use the database URL {url}: the PostgreSQL driver "
                             "({module}) is not installed", {"url": safe_url(url),
                                                             "module": exc.name},
                             hint="Install the postgres extra: pip install 'migrate[postgres]'."
                             ) from None
        raise UsageError("cannot use the database URL {url}: {reason}",
                         {"url": safe_url(url), "reason": str(exc)},
                         hint="Check the URL and that its driver is installed.") from None
    except (sa.exc.ArgumentError, ValueError, TypeError) as exc:
        raise UsageError("cannot use the database URL {url}: {reason}",
                         {"url": safe_url(url), "reason": mask_secrets(str(exc))},
                         hint="Check the URL and that its driver is installed.") from None
    if backend == "sqlite":
        _sqlite_transactions(engine)
    return engine


def connect(engine: sa.Engine) -> sa.Connection:
    """A connection, or a UsageError that says which server did not answer (no password)."""
    try:
        return engine.connect()
    except sa.exc.DBAPIError as exc:
        raise database_error(exc, safe_url(engine.url)) from None


# What a driver's message says → why, and what to do (SQLite's and PostgreSQL's wording).
_DATABASE_CAUSES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("database or disk is full", "no space left", "disk full", "could not extend file",
      "file too large", "disk i/o error", "quota exceeded"), "disk"),
    (("readonly database", "read-only", "permission denied", "attempt to write a readonly"),
     "permission"),
    (("unable to open database", "could not open", "no such file"), "open"),
    (("database is locked", "could not obtain lock", "lock timeout"), "locked"),
    (("could not connect", "connection refused", "connection failed", "could not translate host",
      "timeout expired", "name or service not known", "server closed the connection",
      "password authentication failed", "no password supplied"), "connect"),
    (("file is not a database", "database disk image is malformed"), "corrupt"),
)


def _cause(reason: str) -> str | None:
    lowered = reason.lower()
    return next((c for words, c in _DATABASE_CAUSES if any(w in lowered for w in words)), None)


def environment_error(exc: BaseException) -> UsageError | None:
    """A database error that reached the command line, as a UsageError when its cause is the
    environment (a full disk, permissions, a lock, the server); None when it looks like a bug."""
    if not isinstance(exc, sa.exc.DBAPIError) or _cause(_first_line(exc)) is None:
        return None
    return database_error(exc)


def database_error(exc: BaseException, url: str | None = None) -> UsageError:
    """A database failure that is about the environment (full disk, permissions, locks, an
    unreachable server, a file that is not a database) as a UsageError that keeps the driver's
    own first line — "database or disk is full" stays visible — and says what to do. Passwords
    are masked in it."""
    reason = mask_secrets(_first_line(exc))
    cause = _cause(reason)
    hint = ("Nothing in the database was replaced. Check the URL and that the database can be "
            "written, then run again.")
    if cause == "disk":
        hint = ("The disk of the database is full. Nothing in the database was replaced; free "
                "space there (or give another --db), then run again.")
    elif cause == "permission":
        hint = ("The database may not be written by this user. Nothing in the database was "
                "replaced; fix its permissions (or give another --db), then run again.")
    elif cause == "open":
        hint = "Check that the database file and its folder exist and are writable."
    elif cause == "locked":
        hint = ("Another program or run is using the database. Wait until it is done, then "
                "run again.")
    elif cause == "connect":
        hint = ("Check that the server runs and the URL, user and password are right.")
    elif cause == "corrupt":
        hint = ("The file is not a usable SQLite database. Give another --db (or move the file "
                "away), then run again.")
    if url is None:
        return UsageError("the database reported: {reason}", {"reason": reason}, hint=hint)
    return UsageError("the database {url} reported: {reason}", {"url": url, "reason": reason},
                      hint=hint)


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _adbc_sqlite(engine: sa.Engine) -> Any | None:
    """The ADBC SQLite driver (Arrow batches by C code), when installed and the engine is a
    SQLite database file (ADBC opens the file itself: not for :memory:)."""
    if not USE_ADBC or engine.dialect.name != "sqlite" \
            or engine.url.database in (None, "", ":memory:"):
        return None
    try:
        import adbc_driver_sqlite.dbapi as adbc
    except ImportError:  # pragma: no cover - it is a dependency; executemany still works
        return None
    return adbc


class _Session:
    """One connection and one transaction through SQLAlchemy; DB errors as SQLAlchemy's."""

    def __init__(self, engine: sa.Engine):
        self.engine = engine
        self.conn: sa.Connection | None = connect(engine)
        self.tx = self.conn.begin()

    def execute(self, sql: str, params: tuple = ()) -> list[tuple]:
        result = self.conn.exec_driver_sql(sql, params or None)
        return [tuple(r) for r in result] if result.returns_rows else []

    def create(self, table: sa.Table) -> None:
        table.drop(self.conn, checkfirst=True)
        table.create(self.conn)  # with COMMENT ON … on PostgreSQL

    def commit(self) -> None:
        self.tx.commit()

    def close(self) -> None:
        if self.conn is not None:
            try:
                if self.tx.is_active:
                    self.tx.rollback()
            finally:
                self.conn.close()
                self.conn = None


class _AdbcSession:
    """SQLite through ADBC: the same one-transaction life (ADBC runs with autocommit off, DDL
    included), with Arrow ingestion instead of executemany."""

    def __init__(self, adbc: Any, path: str, dialect: sa.Dialect):
        self.adbc = adbc
        self.dialect = dialect
        self.conn = adbc.connect(path)
        self.cursor = self.conn.cursor()

    def _wrap(self, sql: str, exc: BaseException) -> sa.exc.DBAPIError:
        if "constraint failed" in str(exc):  # ADBC reports SQLite's constraints as INTERNAL
            return sa.exc.IntegrityError(sql, None, exc)
        return sa.exc.DBAPIError.instance(sql, None, exc, self.adbc.Error)

    def execute(self, sql: str, params: tuple = ()) -> list[tuple]:
        try:
            self.cursor.execute(sql, params or None)
            return [tuple(r) for r in self.cursor.fetchall()] if self.cursor.description \
                else []
        except self.adbc.Error as exc:
            raise self._wrap(sql, exc) from None

    def create(self, table: sa.Table) -> None:
        quote = self.dialect.identifier_preparer.quote
        self.execute(f"DROP TABLE IF EXISTS {quote(table.name)}")
        self.execute(str(sa.schema.CreateTable(table).compile(dialect=self.dialect)))

    def ingest(self, table: str, frame: pl.DataFrame) -> None:
        try:
            self.cursor.adbc_ingest(table, frame.to_arrow(), mode="append")
        except self.adbc.Error as exc:
            raise self._wrap(f"INSERT INTO {table}", exc) from None

    def commit(self) -> None:
        try:
            self.conn.commit()
        except self.adbc.Error as exc:
            raise self._wrap("COMMIT", exc) from None

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.cursor.close()
                self.conn.rollback()
            except self.adbc.Error:
                # after a failed COMMIT (a full disk) SQLite has already ended the transaction:
                # "cannot rollback" must not hide the error that is being reported
                pass
            finally:
                self.conn.close()
                self.conn = None


class SqlSink:
    """Streams chunks into this run's staging table of a layout; `commit` commits the load.
    The table itself is replaced later, by `migrate.sinks.swap.publish_tables`."""

    def __init__(self, url: str, schema: Schema, foreign_keys: set[str] | None = None,
                 append: bool = False, run_id: str = "run"):
        self.name = "database"
        # append: add the rows to the staging table an earlier file of the same layout loaded
        # in this run (several files of one layout in a migration plan)
        self.append = append
        self.url = url
        self.schema = schema
        self.foreign_keys = foreign_keys
        self.engine = create_engine(url)
        dialect = self.engine.dialect
        self.dialect = dialect.name
        self.table_name = schema.name
        # PostgreSQL: the primary key index is built once after the load (a sorted build, not
        # one B-tree insert per row) and foreign keys are validated by one query, not a
        # trigger per row; SQLite cannot add constraints later, so its staging table has them.
        self.deferred_keys = self.dialect == "postgresql"
        # Constraint names are per table in SQLite and, but for the primary key's index
        # (added at publish on PostgreSQL), in PostgreSQL: the staging table carries the final
        # names, so a DBA never sees `__staging` in them and the publish renames nothing.
        self.staging = table_for(schema, sa.MetaData(), staging_name(schema.name, run_id),
                                 keys=not self.deferred_keys, foreign_keys=foreign_keys,
                                 constraint_prefix=schema.name, dialect=self.dialect)
        self.quote = dialect.identifier_preparer.quote
        self.column_list = ", ".join(self.quote(c) for c in schema.column_names)
        self.date_columns = [c.name for c in schema.columns if c.dtype == "date"]
        self.decimal_columns = [c.name for c in schema.columns
                                if c.dtype == "decimal" and not integer_decimal(c)]
        self.integer_decimals = [c.name for c in schema.columns if integer_decimal(c)]
        self.rows = 0
        # what was sent, batch by batch: confirmed on the staging table by aggregate queries
        self.proof = LoadProof(schema, self.dialect)
        self.published = False  # set once publish_tables has put the staging table in place
        database = self.engine.url.database
        adbc = _adbc_sqlite(self.engine)
        self.session: _Session | _AdbcSession | CopySession | None = (
            _AdbcSession(adbc, database, dialect) if adbc
            else self._copy_session() if self._copies() else _Session(self.engine))
        if append:
            return
        try:
            self.session.create(self.staging)
        except sa.exc.DBAPIError as exc:
            self.abort()
            raise UsageError("cannot create the database table {table}: {reason}",
                             {"table": self.staging.name, "reason": _first_line(exc)},
                             hint="Load the layouts that this one refers to first, and check "
                                  "that the database user may create tables.") from None
        except BaseException:
            self.abort()
            raise

    def _copies(self) -> bool:
        """PostgreSQL through psycopg loads with COPY, on several connections at once."""
        return self.dialect == "postgresql" and self.engine.dialect.driver == "psycopg"

    def _copy_session(self) -> CopySession:
        connections: list[sa.Connection] = []
        try:
            for _ in range(STREAMS):
                connections.append(connect(self.engine))
        except BaseException:
            for conn in connections:
                conn.close()
            self.engine.dispose()
            raise
        return CopySession(connections)

    # ------------------------------------------------------------------ loading

    def write(self, frame: pl.DataFrame) -> None:
        if frame.height == 0:
            return
        assert self.session is not None, "write after commit/abort"
        frame = frame.select(self.schema.column_names)
        if isinstance(self.session, CopySession):
            # every stream sends its part while this thread sums the batch up
            self.session.copy(self.staging.name, self.column_list, frame,
                              beside=lambda: self.proof.add(frame))
            self.rows += frame.height
            return
        self.proof.add(frame)
        if isinstance(self.session, _AdbcSession):
            self.session.ingest(self.staging.name, self._sqlite_values(frame))
        else:
            self._executemany(frame)
        self.rows += frame.height

    def _sqlite_values(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Dates as ISO text, whole decimals as integers and other decimals as text: how
        SQLAlchemy keeps them in SQLite."""
        return frame.with_columns(pl.col(self.date_columns).dt.to_string("%Y-%m-%d"),
                                  pl.col(self.decimal_columns).cast(pl.Utf8),
                                  pl.col(self.integer_decimals).cast(pl.Int64))

    def _executemany(self, frame: pl.DataFrame) -> None:
        conn = self.session.conn
        marker = {"qmark": "?", "numeric": "?", "format": "%s", "pyformat": "%s"}.get(
            self.engine.dialect.paramstyle)
        if marker is None:  # an unusual driver: let SQLAlchemy bind every value
            for start in range(0, frame.height, BATCH_ROWS):
                conn.execute(self.staging.insert(), frame.slice(start, BATCH_ROWS).to_dicts())
            return
        # Driver-level executemany with plain tuples: no per-value SQLAlchemy processing.
        if self.dialect == "sqlite":
            frame = self._sqlite_values(frame)
        values = ", ".join([marker] * frame.width)
        sql = (f"INSERT INTO {self.quote(self.staging.name)} ({self.column_list}) "
               f"VALUES ({values})")
        for start in range(0, frame.height, BATCH_ROWS):
            conn.exec_driver_sql(sql, frame.slice(start, BATCH_ROWS).rows())

    # ------------------------------------------------------------------ staged

    def commit(self) -> None:
        """Commit the load: the staging table is complete and visible to other connections
        (its verification queries it), and still replaces nothing."""
        assert self.session is not None, "commit after commit/abort"
        try:
            self.session.commit()
        except sa.exc.DBAPIError as exc:
            self.abort()
            raise UsageError("cannot load the database table {table}: {reason}",
                             {"table": self.table_name, "reason": _first_line(exc)},
                             hint="Nothing in the database was changed. Check that the disk "
                                  "of the database has free space.") from None
        except BaseException:
            self.abort()
            raise
        self._close_session()

    def abort(self) -> None:
        """Roll the load back (on PostgreSQL, the staging table this sink made goes too); a
        staging table already committed is dropped by `migrate.sinks.swap.discard_tables`."""
        self._close_session()
        self.engine.dispose()

    def _close_session(self) -> None:
        if self.session is not None:
            session, self.session = self.session, None
            session.close()

    def count(self) -> int:
        """Rows this sink loaded, re-counted from the staging table or, once published, the
        table (when appending: the rows it added)."""
        if self.append:
            return self.rows
        table = self.table_name if self.published else self.staging.name
        with connect(self.engine) as conn:
            return int(conn.execute(sa.text(
                f"SELECT COUNT(*) FROM {self.quote(table)}")).scalar())

    def outputs(self) -> list[Path]:
        parsed = make_url(self.url)
        if parsed.get_backend_name() == "sqlite" and parsed.database:
            return [Path(parsed.database)]
        return []

    def close(self) -> None:
        self._close_session()
        self.engine.dispose()


def staging_name(table: str, run_id: str) -> str:
    """The staging table of a layout in one run: unique per run, so runs never share one."""
    return f"{table}{STAGING_SUFFIX}_{run_id}"
