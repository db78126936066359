"""Lookups (`lookup:` columns): a value taken from another record of the same file, such as the
household head's name from the record with the same 世帯番号 whose 続柄 is 世帯主.

The record that holds the value may be anywhere in the file (another chunk, before or after),
so the group checks' first pass (migrate.validate.groupcheck) also collects, per lookup column,
the records that satisfy its `where`: their `match` values, record number and `take` value
(`candidates`). They are summed up per match key into a small table (`summarize`), written
as a Parquet file in the run's work folder; the main pass reads it in each worker
(`LookupTables`) and joins every chunk's records to it. The table holds one row per matching
record (one per household for a head's name), not the file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from migrate.decode import FieldResult
from migrate.i18n import t
from migrate.layouts import ColumnMapping, Mapping
from migrate.pii import mask

SHOWN_RECORDS = 5  # records named in the detail of an ambiguous lookup
RECORD, VALUE, BAD = "__record", "__value", "__bad"


def lookup_columns(mapping: Mapping) -> list[ColumnMapping]:
    return [cm for cm in mapping.columns if cm.kind == "lookup"]


def candidates(cm: ColumnMapping, decoded: dict[str, FieldResult], rec_no: np.ndarray
               ) -> pl.DataFrame:
    """The records of a chunk that hold a value for the lookup: match values, record number,
    the value (text) and whether it failed to decode."""
    lookup = cm.lookup
    frame = pl.DataFrame({
        **{k: decoded[k].values.cast(pl.Utf8) for k in lookup.match},
        RECORD: pl.Series(rec_no, dtype=pl.Int64),
        VALUE: decoded[lookup.take].values.cast(pl.Utf8),
        BAD: decoded[lookup.take].errors.is_not_null(),
        **{f"w:{k}": decoded[k].values.cast(pl.Utf8) for k, _ in lookup.where},
    })
    condition = pl.all_horizontal([pl.lit(True), *(pl.col(f"w:{k}").is_in(list(v))
                                                   for k, v in lookup.where)]).fill_null(False)
    present = pl.all_horizontal([pl.col(k).is_not_null() for k in lookup.match])
    return frame.filter(condition & present).select(*lookup.match, RECORD, VALUE, BAD)


def summarize(cm: ColumnMapping, frames: list[pl.DataFrame], path: Path) -> None:
    """One row per match key: the first record's value, how many records match and the first
    few of them; written to `path` (Parquet, 0600)."""
    match = list(cm.lookup.match)
    schema = {**dict.fromkeys(match, pl.Utf8), RECORD: pl.Int64, VALUE: pl.Utf8,
              BAD: pl.Boolean}
    every = pl.concat([f for f in frames if f.height] or [pl.DataFrame(schema=schema)])
    table = every.sort(RECORD).group_by(match, maintain_order=True).agg(
        pl.col(RECORD).first(), pl.col(VALUE).first(), pl.col(BAD).first(),
        pl.len().alias("__count"),
        pl.col(RECORD).head(SHOWN_RECORDS).cast(pl.Utf8).str.join(", ").alias("__records"))
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    table.write_parquet(path)
    path.chmod(0o600)


def table_path(folder: Path, cm: ColumnMapping) -> Path:
    return folder / f"{cm.column}.parquet"


class LookupTables:
    """The summed-up lookup tables of a run, read once per process when first needed."""

    def __init__(self, folder: Path | None):
        self.folder = folder
        self.tables: dict[str, pl.DataFrame] = {}

    def resolve(self, cm: ColumnMapping, mapping: Mapping, decoded: dict[str, FieldResult],
                rec_no: np.ndarray) -> tuple[pl.Series, list[tuple[np.ndarray, str, list[str], list[str]]]]:
        """The column's values for a chunk, and its problems as (rows, reason, values,
        details)."""
        if cm.column not in self.tables:
            if self.folder is None:
                raise AssertionError("lookup tables were not collected before the main pass")
            self.tables[cm.column] = pl.read_parquet(table_path(self.folder, cm))
        match = list(cm.lookup.match)
        keys = pl.DataFrame({k: decoded[k].values.cast(pl.Utf8) for k in match})
        joined = keys.join(self.tables[cm.column], on=match, how="left", maintain_order="left")
        has_key = keys.select(pl.all_horizontal(
            [pl.lit(True), *(pl.col(k).is_not_null() for k in match)])).to_series()
        count = joined["__count"].fill_null(0)
        one = (count == 1) & ~joined[BAD].fill_null(False)
        values = pl.select(pl.when(has_key & one).then(joined[VALUE])).to_series()
        problems = []
        shown_keys = [", ".join(f"{k}={mask(v, mapping.pii_of_field(k))}"
                                for k, v in zip(match, row, strict=True))
                      for row in keys.fill_null("").rows()]
        where = ", ".join(f"{k}={'|'.join(v)}" for k, v in cm.lookup.where)
        missing = np.flatnonzero((has_key & (count == 0)).to_numpy())
        if len(missing):
            problems.append((missing, "lookup_missing", [shown_keys[i] for i in missing],
                             [t("no record with the same {match} has {where}",
                                match=", ".join(match), where=where)] * len(missing)))
        # the record holding an unreadable value is rejected for it once, not again here
        unread = np.flatnonzero((has_key & (count == 1) & joined[BAD].fill_null(False)
                                 & (joined[RECORD] != pl.Series(rec_no))).to_numpy())
        if len(unread):
            records = joined[RECORD].gather(unread).to_list()
            problems.append((unread, "lookup_missing", [shown_keys[i] for i in unread],
                             [t("record {record} holds the value, but its {field} could not "
                                "be read", record=r, field=cm.lookup.take) for r in records]))
        twice = np.flatnonzero((has_key & (count > 1)).to_numpy())
        if len(twice):
            rows = joined.select("__count", "__records")[twice].rows()
            problems.append((twice, "lookup_ambiguous", [shown_keys[i] for i in twice],
                             [t("{hits} records with the same {match} have {where}: records "
                                "{records}", hits=n, match=", ".join(match), where=where,
                                records=listed + (" …" if n > SHOWN_RECORDS else ""))
                              for n, listed in rows]))
        return values.alias(cm.column), problems
