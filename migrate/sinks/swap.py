"""Replace tables by this run's staging tables, all in one transaction: the publish point of
the database (migrate.sinks.sql loads the staging tables; migrate.run.publishing decides when).
The same transaction creates the indexes on referencing columns and writes the tables' rows of
the `migrate_columns` data dictionary (migrate.sinks.dictionary).

Old tables are dropped without CASCADE, referring tables first; foreign keys of tables this
publish does not replace are dropped and re-created (so re-validated) in the same transaction,
and any other dependent object (a view) makes the publish fail and roll back: then nothing in
the database has changed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa

from migrate.errors import UsageError
from migrate.sinks.dictionary import publish_dictionary
from migrate.sinks.sql import (
    STAGING_SUFFIX,
    _first_line,
    _Session,
    connect,
    create_engine,
    table_for,
)

if TYPE_CHECKING:
    from migrate.sinks.sql import SqlSink


def staging_tables_exist(url: str, names: list[str]) -> bool:
    """Whether any of these staging tables is still in the database (a run that died before
    publishing) — False means they were published (renamed into place)."""
    engine = create_engine(url)
    try:
        with connect(engine) as conn:
            inspector = sa.inspect(conn)
            return any(inspector.has_table(name) for name in names)
    finally:
        engine.dispose()


def discard_tables(url: str, sinks: list[SqlSink]) -> None:
    """Drop the staging tables of a run that does not publish (best effort: a database that
    cannot be reached keeps them, and the next run into it removes them)."""
    for sink in sinks:
        sink.close()
    names = sorted({sink.staging.name for sink in sinks})
    if not names:
        return
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            for name in names:
                sa.Table(name, sa.MetaData()).drop(conn, checkfirst=True)
    except sa.exc.SQLAlchemyError:
        pass
    finally:
        engine.dispose()


def drop_leftover_staging(url: str, tables: list[str], run_id: str | None = None
                          ) -> list[str]:
    """Staging tables of these layouts left by runs that died before publishing (only those
    of one run with `run_id`)."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            left = [name for name in sa.inspect(conn).get_table_names()
                    if any(name.startswith(f"{t}{STAGING_SUFFIX}_{run_id or ''}")
                           for t in tables)]
            for name in left:
                sa.Table(name, sa.MetaData()).drop(conn)
        return left
    except sa.exc.SQLAlchemyError:
        return []
    finally:
        engine.dispose()


def publish_tables(url: str, sinks: list[SqlSink]) -> None:
    """Replace every layout's table by its staging table, in one transaction: the publish
    point of the database. Sinks come in load order (a referenced layout before the layouts
    that refer to it); the sinks of several files of one layout share one staging table."""
    by_table: dict[str, SqlSink] = {}
    for sink in sinks:
        sink.close()
        by_table.setdefault(sink.staging.name, sink)
    if by_table:
        _Publisher(url, list(by_table.values())).run()


class _Publisher:
    """The one transaction that swaps staging tables into place."""

    def __init__(self, url: str, staged: list[SqlSink]):
        self.url = url
        self.staged = staged
        self.engine = create_engine(url)
        self.dialect = self.engine.dialect
        self.quote = self.dialect.identifier_preparer.quote
        self.finals = {sink.table_name for sink in staged}

    def run(self) -> None:
        session = _Session(self.engine)
        self.execute = session.execute
        try:
            dependents = self._dependent_foreign_keys()
            for child, name, _definition in dependents:
                self.execute(f"ALTER TABLE {self.quote(child)} DROP CONSTRAINT "
                             f"{self.quote(name)}")
            for sink in reversed(self.staged):  # referring tables first; never CASCADE
                self.execute(f"DROP TABLE IF EXISTS {self.quote(sink.table_name)}")
            for sink in self.staged:
                self.execute(f"ALTER TABLE {self.quote(sink.staging.name)} RENAME TO "
                             f"{self.quote(sink.table_name)}")
                if self.dialect.name == "postgresql":
                    self._rename_constraints(sink)
            if self.dialect.name == "postgresql":
                for sink in self.staged:
                    self._add_keys(sink)
            assert session.conn is not None
            publish_dictionary(session.conn, self.staged)  # indexes, migrate_columns
            for child, name, definition in dependents:
                self.execute(f"ALTER TABLE {self.quote(child)} ADD CONSTRAINT "
                             f"{self.quote(name)} {definition}")
            if self.dialect.name == "sqlite":
                for sink in self.staged:
                    self._sqlite_check_foreign_keys(sink)
            session.commit()
            for sink in self.staged:
                sink.published = True
        except sa.exc.DBAPIError as exc:
            raise self._cannot_replace(_first_line(exc)) from None
        finally:
            session.close()
            self.engine.dispose()

    def _cannot_replace(self, reason: str) -> UsageError:
        return UsageError("the database table {table} cannot be replaced: {reason}",
                          {"table": ", ".join(sorted(self.finals)), "reason": reason},
                          hint="Nothing in the database was changed. The new rows may break a "
                               "key of the layout (a duplicate or a reference to a missing "
                               "row), or another object depends on the table (a view, or rows "
                               "of another table that refer to keys this run no longer has).")

    def _add_keys(self, sink: SqlSink) -> None:
        final = table_for(sink.schema, sa.MetaData(), sink.table_name,
                          foreign_keys=sink.foreign_keys)
        for constraint in final.constraints:
            if isinstance(constraint, sa.PrimaryKeyConstraint | sa.ForeignKeyConstraint) \
                    and constraint.columns:
                self.execute(str(sa.schema.AddConstraint(constraint).compile(
                    dialect=self.dialect)))

    def _rename_constraints(self, sink: SqlSink) -> None:
        """PostgreSQL keeps constraint and index names through a table rename. The staging
        table's constraints already carry the final names (migrate.sinks.sql.SqlSink), so this
        renames only a constraint that would still be named after the staging table."""
        stage, final = sink.staging.name, sink.table_name
        for constraint in sink.staging.constraints:
            if not isinstance(constraint.name, str) or not constraint.name.startswith(stage):
                continue
            new = final + constraint.name[len(stage):]
            self.execute(f"ALTER TABLE {self.quote(final)} RENAME CONSTRAINT "
                         f"{self.quote(constraint.name)} TO {self.quote(new)}")

    def _dependent_foreign_keys(self) -> list[tuple[str, str, str]]:
        """(table, constraint, definition) of foreign keys into the old tables from tables
        this publish does not replace."""
        if self.dialect.name != "postgresql":
            return []
        found = []
        for table in sorted(self.finals):
            rows = self.execute(
                "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) "
                "FROM pg_constraint c WHERE c.contype = 'f' AND c.confrelid = to_regclass(%s) "
                "AND c.conrelid <> c.confrelid ORDER BY 1, 2", (self.quote(table),))
            found += [(str(child), str(name), str(definition))
                      for child, name, definition in rows
                      if str(child).strip('"') not in self.finals]
        return found

    def _sqlite_check_foreign_keys(self, sink: SqlSink) -> None:
        """SQLite enforces foreign keys only when asked per connection; check them once here,
        for the new table and for the tables that refer to it."""
        fk = any(c.references for c in sink.schema.columns)
        literal = "'" + sink.table_name.replace("'", "''") + "'"
        children = [row[0] for row in self.execute(
            "SELECT m.name FROM sqlite_master m, pragma_foreign_key_list(m.name) f "
            f"WHERE m.type = 'table' AND f.\"table\" = {literal}")]
        for table in ([sink.table_name] if fk else []) + children:
            bad = self.execute(f"PRAGMA foreign_key_check({self.quote(table)})")
            if bad:
                raise self._cannot_replace(
                    f"FOREIGN KEY constraint failed ({bad[0][0]} → {bad[0][2]})")


def load_table(sink: SqlSink) -> None:
    """Commit a sink's load and replace its table at once — a table loaded on its own, outside
    a run (benchmarks, tests); the staging table is dropped when the replacement fails."""
    sink.commit()
    try:
        publish_tables(sink.url, [sink])
    except BaseException:
        discard_tables(sink.url, [sink])
        raise
