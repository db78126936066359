"""Standard-layout tables in a database (the one `migrate run --db` loaded) as datasets: SQLite
or PostgreSQL by SQLAlchemy URL, one table per layout (juki/v1 → juki), read in batches.

Values are read as text and cast with the layout's types, as for a CSV file, so a date or a
decimal comes out the same whichever database held it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl
import sqlalchemy as sa

from migrate.errors import UsageError
from migrate.export.tables import BATCH_ROWS, cast_frame
from migrate.layouts import Schema, load_schema
from migrate.layouts.bundled import bundled_dir
from migrate.sinks.sql import create_engine, parse_url, safe_url, table_name_of

SCHEMES = ("sqlite:", "postgresql:", "postgresql+")


def is_database_url(source: str | Path) -> bool:
    return str(source).startswith(SCHEMES)


def _engine(url: str) -> sa.Engine:
    parsed = parse_url(url)  # a bad URL is a UsageError (masked), not a crash
    if parsed.get_backend_name() == "sqlite" and parsed.database and \
            not Path(parsed.database).is_file():
        raise UsageError("the SQLite database {path} does not exist",
                         {"path": parsed.database},
                         hint="Give the database migrate run loaded, e.g. "
                              "sqlite:///out/migrate.db.")
    return create_engine(url)


def _dependency_order(schemas: list[Schema]) -> list[Schema]:
    """Layouts that others refer to first (as a plan runs them)."""
    ordered: list[Schema] = []
    waiting = list(schemas)
    ids = {s.id for s in schemas}
    while waiting:
        ready = [s for s in waiting if all(
            c.references is None or c.references.layout not in ids
            or c.references.layout in {o.id for o in ordered} or c.references.layout == s.id
            for c in s.columns)] or waiting[:1]
        ordered.append(ready[0])
        waiting.remove(ready[0])
    return ordered


def database_layouts(url: str, layouts: list[str] | None) -> list[Schema]:
    """The layouts whose tables the database holds (all bundled ones, or those named)."""
    engine = _engine(url)
    try:
        names = set(sa.inspect(engine).get_table_names())
    except sa.exc.SQLAlchemyError as error:
        raise UsageError("cannot read the database {url}: {reason}",
                         {"url": safe_url(url), "reason": str(error).splitlines()[0]}) from None
    finally:
        engine.dispose()
    if layouts:
        schemas = [load_schema(layout) for layout in layouts]
        missing = [s.id for s in schemas if table_name_of(s.id) not in names]
        if missing:
            raise UsageError("the database {url} has no table for {layouts}",
                             {"url": safe_url(url), "layouts": ", ".join(missing)})
    else:
        found = sorted(p.relative_to(bundled_dir("schemas")).with_suffix("").as_posix()
                       for p in bundled_dir("schemas").glob("*/v*.yaml"))
        schemas = [load_schema(layout) for layout in found if table_name_of(layout) in names]
        if not schemas:
            raise UsageError("the database {url} holds no standard-layout table",
                             {"url": safe_url(url)}, hint="Name the layouts with --layout.")
    return _dependency_order(schemas)


def database_batches(url: str, schema: Schema, size: int = BATCH_ROWS
                     ) -> Iterator[pl.DataFrame]:
    """The rows of a layout's table, typed by the layout, `size` at a time."""
    engine = _engine(url)
    columns = [sa.column(name) for name in schema.column_names]
    # in the run's record order, as the files hold the rows: without ORDER BY, PostgreSQL
    # returns them in its physical order, which changes once rows are updated
    order = ["src_record"] if "src_record" in schema.column_names else list(schema.primary_key)
    query = sa.select(*columns).select_from(sa.table(table_name_of(schema.id))) \
        .order_by(*[sa.column(name) for name in order])
    try:
        with engine.connect() as conn:
            for frame in pl.read_database(query, conn.execution_options(stream_results=True),
                                          iter_batches=True, batch_size=size,
                                          infer_schema_length=None):
                text = frame.select(pl.col(c).cast(pl.Utf8) for c in schema.column_names)
                yield cast_frame(text, schema)[0]
    finally:
        engine.dispose()
