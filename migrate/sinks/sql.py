"""Load standardized rows into a database through SQLAlchemy; tables come from the schema YAML.

Rows go into a staging table; commit swaps it for the real table in one transaction, so a failed
run leaves the previous content of the table as it was.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from migrate.atomic import private_open
from migrate.errors import UsageError
from migrate.layouts import ColumnSpec, Schema

BATCH_ROWS = 20_000


def sql_type(spec: ColumnSpec) -> sa.types.TypeEngine:
    """SQL column type of a standard column."""
    if spec.dtype in ("str", "digits", "code"):
        length = spec.length or spec.max_length
        if spec.dtype == "code" and spec.codes:
            length = max(len(c) for c in spec.codes)
        return sa.String(length) if length else sa.Text()
    return {
        "int": sa.BigInteger(), "date": sa.Date(), "partial_date": sa.String(10),
        "flag": sa.SmallInteger(), "decimal": sa.Numeric(spec.precision or 18, spec.scale),
    }[spec.dtype]


def table_for(schema: Schema, metadata: sa.MetaData, name: str | None = None) -> sa.Table:
    """The SQLAlchemy table of a standard layout (PK, NOT NULL, lengths from the YAML)."""
    columns = [sa.Column(spec.name, sql_type(spec), nullable=not spec.required,
                         primary_key=spec.name in schema.primary_key, comment=spec.ja)
               for spec in schema.columns]
    return sa.Table(name or schema.name, metadata, *columns, comment=schema.title_ja)


def default_sqlite_url(out_dir: Path) -> str:
    return f"sqlite:///{(out_dir / 'migrate.db').resolve()}"


def create_engine(url: str) -> sa.Engine:
    """An engine for a URL; a new SQLite file is created owner-only first."""
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError:
        raise UsageError("'{url}' is not a database URL", {"url": url},
                         hint="Use e.g. sqlite:///out/migrate.db or "
                              "postgresql+psycopg://user@host/db.") from None
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            private_open(path, "wb").close()
    try:
        return sa.create_engine(url)
    except (sa.exc.ArgumentError, ModuleNotFoundError) as exc:
        raise UsageError("cannot use the database URL {url}: {reason}",
                         {"url": url, "reason": str(exc)},
                         hint="Check the URL and that its driver is installed.") from None


class SqlSink:
    """Streams chunks into a staging table and swaps it in on commit."""

    def __init__(self, url: str, schema: Schema):
        self.name = "database"
        self.url = url
        self.schema = schema
        self.engine = create_engine(url)
        self.table_name = schema.name
        self.metadata = sa.MetaData()
        self.staging = table_for(schema, self.metadata, f"{schema.name}__staging")
        self.date_columns = [c.name for c in schema.columns if c.dtype == "date"]
        with self.engine.begin() as conn:
            self.staging.drop(conn, checkfirst=True)
            self.staging.create(conn)

    def write(self, frame: pl.DataFrame) -> None:
        frame = frame.select(self.schema.column_names)
        marker = {"qmark": "?", "format": "%s", "pyformat": "%s"}.get(
            self.engine.dialect.paramstyle)
        with self.engine.begin() as conn:
            if marker is None:  # an unusual driver: let SQLAlchemy bind every value
                for start in range(0, frame.height, BATCH_ROWS):
                    conn.execute(self.staging.insert(),
                                 frame.slice(start, BATCH_ROWS).to_dicts())
                return
            # Driver-level executemany with plain tuples: no per-value SQLAlchemy processing.
            # Dates go as ISO text, which is how SQLAlchemy stores them in SQLite too.
            if self.engine.dialect.name == "sqlite":
                frame = frame.with_columns(pl.col(self.date_columns).dt.to_string("%Y-%m-%d"))
            names = ", ".join(self.schema.column_names)
            values = ", ".join([marker] * frame.width)
            sql = f"INSERT INTO {self.staging.name} ({names}) VALUES ({values})"
            for start in range(0, frame.height, BATCH_ROWS):
                conn.exec_driver_sql(sql, frame.slice(start, BATCH_ROWS).rows())

    def commit(self) -> None:
        final = table_for(self.schema, sa.MetaData(), self.table_name)
        with self.engine.begin() as conn:
            final.drop(conn, checkfirst=True)
            conn.execute(sa.text(
                f"ALTER TABLE {self.staging.name} RENAME TO {self.table_name}"))

    def abort(self) -> None:
        with self.engine.begin() as conn:
            self.staging.drop(conn, checkfirst=True)
        self.engine.dispose()

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(sa.text(f"SELECT COUNT(*) FROM {self.table_name}")).scalar())

    def outputs(self) -> list[Path]:
        parsed = make_url(self.url)
        if parsed.get_backend_name() == "sqlite" and parsed.database:
            return [Path(parsed.database)]
        return []

    def close(self) -> None:
        self.engine.dispose()
