"""PostgreSQL: COPY into a run's staging table over two connections at once.

One PostgreSQL backend parses one COPY stream, so a single stream loads at the speed of one
server core. Here the staging table is created and **committed first** (it is named for the run
and replaces nothing: the publish point stays the one transaction of `migrate.sinks.swap`), then
every batch is cut into contiguous parts, one per connection, and each part is written as CSV
(by polars, without the GIL) and streamed by its own thread in its own transaction. `commit`
commits every stream. When a stream fails, or the run stops, every stream rolls back and the
staging table is dropped; a run killed mid-way leaves a staging table that the next run into the
database drops (`migrate.run.publishing`).

The rows of the staging table are not in input order; nothing depends on it: the keys are added
at publish, and the load's row-hash sums (`migrate.sinks.loadproof`) are order-free.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress

import polars as pl
import sqlalchemy as sa

STREAMS = 2  # connections that load at once (the server parses each on its own core)
COPY_ROWS = 20_000  # rows per CSV buffer handed to COPY (~5 MB; bounds the extra memory)
MIN_SPLIT_ROWS = 2_000  # a smaller batch goes through one stream


def csv_bytes(frame: pl.DataFrame) -> bytes:
    """A batch as COPY's CSV: an empty string is written quoted ("") and NULL as nothing."""
    buffer = io.BytesIO()
    frame.write_csv(buffer, include_header=False)
    return buffer.getvalue()


class CopySession:
    """Several connections, one transaction each, loading one staging table with COPY."""

    def __init__(self, connections: list[sa.Connection]):
        self.conns = connections
        self.txs = [conn.begin() for conn in connections]
        self.dbapi = connections[0].dialect.loaded_dbapi
        self.pool = ThreadPoolExecutor(len(connections), thread_name_prefix="copy")
        self.created: sa.Table | None = None
        self.committed = False

    def create(self, table: sa.Table) -> None:
        """Create the staging table and commit it, so that every stream's connection sees it;
        the other streams' transactions start after that."""
        conn = self.conns[0]
        table.drop(conn, checkfirst=True)
        table.create(conn)  # with COMMENT ON …
        self.txs[0].commit()
        self.created = table
        self.txs[0] = conn.begin()

    def copy(self, table: str, columns: str, frame: pl.DataFrame,
             beside: Callable[[], None] | None = None) -> None:
        """Load a batch, its parts on every stream at once; `beside` runs meanwhile in the
        calling thread (summing up the batch for its verification)."""
        quote = self.conns[0].dialect.identifier_preparer.quote
        sql = f"COPY {quote(table)} ({columns}) FROM STDIN (FORMAT csv)"
        streams = len(self.conns) if frame.height >= MIN_SPLIT_ROWS else 1
        size = -(-frame.height // streams)
        jobs = [self.pool.submit(self._stream, conn, sql, frame.slice(i * size, size))
                for i, conn in enumerate(self.conns[:streams])]
        try:
            if beside is not None:
                beside()
        finally:
            errors = [job.exception() for job in jobs]
        for error in errors:
            if isinstance(error, self.dbapi.Error):
                raise sa.exc.DBAPIError.instance(sql, None, error, self.dbapi.Error)
            if error is not None:
                raise error

    @staticmethod
    def _stream(conn: sa.Connection, sql: str, part: pl.DataFrame) -> None:
        raw = conn.connection.driver_connection
        with raw.cursor() as cursor, cursor.copy(sql) as copy:
            for piece in part.iter_slices(n_rows=COPY_ROWS):
                copy.write(csv_bytes(piece))

    def commit(self) -> None:
        for tx in self.txs:
            tx.commit()
        self.committed = True

    def close(self) -> None:
        """End every stream; a staging table this session created is dropped unless the load
        was committed."""
        self.pool.shutdown(wait=True)
        for tx in self.txs:
            with suppress(sa.exc.SQLAlchemyError):
                if tx.is_active:
                    tx.rollback()
        if self.created is not None and not self.committed:
            with suppress(sa.exc.SQLAlchemyError), self.conns[0].begin():
                self.created.drop(self.conns[0], checkfirst=True)
        for conn in self.conns:
            with suppress(sa.exc.SQLAlchemyError):
                conn.close()
        self.conns = []
