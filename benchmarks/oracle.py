"""Independent checks of what a benchmark produced, so a benchmark fails when a stage's output is
wrong, not only when it crashes (benchmarks still assert no timings).

The reference is the plain test path (`migrate run`, one process, files only) on the same
benchmark file, read back as text; a database table is re-read with plain SQLAlchemy and compared
with its input through an order-independent fingerprint of its rows as text.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import sqlalchemy as sa

from migrate.layouts import Mapping
from migrate.run.pipeline import RunOptions, run


@dataclass(frozen=True)
class Reference:
    rows: pl.DataFrame      # accepted rows, every column as text, sorted by src_record
    rejects: pl.DataFrame   # rejects.csv as text

    @property
    def rejected_records(self) -> set[int]:
        return set(self.rejects["record"].cast(pl.Int64).to_list())

    def accepted(self, rows: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
        """`rows` (typed, with src_record) restricted to the accepted records, as text."""
        keep = self.rows.select(pl.col("src_record").cast(pl.Int64))
        return rows.join(keep, on="src_record", how="semi").sort("src_record") \
            .select(pl.col(c).cast(pl.Utf8) for c in columns)

    def expect(self, rows: pl.DataFrame, columns: list[str]) -> None:
        """Assert that `rows` hold, for every accepted record, the reference's values."""
        got = self.accepted(rows, columns)
        want = self.rows.select(columns)
        assert got.height == want.height
        for column in columns:
            same = got[column].eq_missing(want[column])
            bad = (~same).arg_true()
            assert bad.len() == 0, (column, got[column].gather(bad[:3]).to_list(),
                                    want[column].gather(bad[:3]).to_list())


def reference_run(mapping: Mapping, path: Path, out: Path) -> Reference:
    result = run(RunOptions(mapping, path, out, db_url="none", workers=1))
    folder = result.run_json.parent
    rows = pl.read_csv(folder / f"{mapping.target.name}.csv", infer_schema=False)
    rejects = pl.read_csv(folder / "rejects.csv", infer_schema=False)
    return Reference(rows.sort(pl.col("src_record").cast(pl.Int64)), rejects)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


def _fingerprint(rows: list[tuple]) -> tuple[int, str]:
    digests = sorted(hashlib.sha256(repr(row).encode()).digest() for row in rows)
    return len(rows), hashlib.sha256(b"".join(digests)).hexdigest()


def frame_fingerprint(frame: pl.DataFrame) -> tuple[int, str]:
    """Row count and fingerprint of a frame's rows, each value as text."""
    return _fingerprint([tuple(_text(v) for v in row) for row in frame.iter_rows()])


def table_fingerprint(url: str, table: str, columns: list[str]) -> tuple[int, str]:
    """The same for a database table, re-read with SQLAlchemy (reflected column types)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            reflected = sa.Table(table, sa.MetaData(), autoload_with=conn)
            rows = conn.execute(sa.select(*(reflected.c[c] for c in columns))).fetchall()
    finally:
        engine.dispose()
    return _fingerprint([tuple(_text(v) for v in row) for row in rows])
