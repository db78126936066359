"""What a DBA finds beside the tables: the `migrate_columns` data dictionary and the indexes on
referencing columns, both written by the publishing transaction (migrate.sinks.swap), so that
they always describe the tables that are there.

`migrate_columns` has one row per column of every table migrate published: its table and
column, its position, the Japanese and English names, the layout's dtype, the SQL type and the
kind of personal data it holds (NULL when none). A publish replaces the rows of the tables it
replaces and keeps the others'. On PostgreSQL the Japanese names are also COMMENTs on the tables
and columns (migrate.sinks.sql.table_for).

Indexes on referencing columns (`<table>_<column>_idx`, for each `references:` of the layout
whose column is not already the first column of the primary key) are created after the staging
table is renamed into place: index names are per schema (PostgreSQL) or per database (SQLite),
so the staging table cannot carry them while the old table still has them, and a bulk load
without them is faster.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa

from migrate.layouts import Schema
from migrate.sinks.sql import sql_type

if TYPE_CHECKING:
    from migrate.sinks.sql import SqlSink

DICTIONARY_TABLE = "migrate_columns"


def dictionary_table(metadata: sa.MetaData | None = None) -> sa.Table:
    """The data-dictionary table (its own names and comments, in Japanese too)."""
    text = sa.String(200)
    return sa.Table(
        DICTIONARY_TABLE, metadata if metadata is not None else sa.MetaData(),
        sa.Column("table_name", sa.String(63), nullable=False, comment="テーブル名"),
        sa.Column("column_name", sa.String(63), nullable=False, comment="列名"),
        sa.Column("position", sa.Integer(), nullable=False, comment="列の順番（1から）"),
        sa.Column("ja", text, nullable=False, comment="日本語名"),
        sa.Column("en", text, nullable=False, comment="英語名"),
        sa.Column("dtype", sa.String(20), nullable=False, comment="標準レイアウトの型"),
        sa.Column("sql_type", sa.String(40), nullable=False, comment="データベースの型"),
        sa.Column("pii", sa.String(20), comment="個人情報の種類（なければNULL）"),
        sa.PrimaryKeyConstraint("table_name", "column_name", name=f"{DICTIONARY_TABLE}_pkey"),
        comment="移行した表の列の一覧（データ辞書）")


def dictionary_rows(schema: Schema, table: str, dialect: sa.Dialect) -> list[dict[str, object]]:
    """One row per column of a published table."""
    return [{"table_name": table, "column_name": spec.name, "position": position,
             "ja": spec.ja, "en": spec.en, "dtype": spec.dtype,
             "sql_type": str(sql_type(spec).compile(dialect=dialect)), "pii": spec.pii}
            for position, spec in enumerate(schema.columns, start=1)]


def reference_indexes(schema: Schema, table: str) -> list[sa.Index]:
    """An index per referencing column, named `<table>_<column>_idx` (not on a column the
    primary key's own index already leads with)."""
    metadata = sa.MetaData()
    columns = [spec for spec in schema.columns if spec.references is not None
               and spec.name != (schema.primary_key or ("",))[0]]
    bare = sa.Table(table, metadata, *(sa.Column(spec.name, sql_type(spec)) for spec in columns))
    return [sa.Index(f"{table}_{spec.name}_idx", bare.c[spec.name]) for spec in columns]


def publish_dictionary(conn: sa.Connection, staged: list[SqlSink]) -> None:
    """Inside the publishing transaction, once the tables are in place: their indexes, and
    their rows of migrate_columns (the table created when missing)."""
    for sink in staged:
        for index in reference_indexes(sink.schema, sink.table_name):
            index.create(conn)
    table = dictionary_table()
    table.create(conn, checkfirst=True)
    names = sorted({sink.table_name for sink in staged})
    conn.execute(table.delete().where(table.c.table_name.in_(names)))
    rows = [row for sink in staged
            for row in dictionary_rows(sink.schema, sink.table_name, conn.dialect)]
    if rows:
        conn.execute(table.insert(), rows)
