"""Trailer figures and expected values over data records: per figure the (record, value) of
the records it counts or sums, and the rows whose field differs from its `expect`.

The run adds the figure rows up per block (migrate.reconcile.framing) and compares them with
what each trailer states.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from migrate.layouts import FieldSpec
from migrate.layouts.source import FigureSpec


def figure_values(figure: FigureSpec, values: dict[str, pl.Series], records: np.ndarray
                  ) -> pl.DataFrame:
    """(record, value) of the records a figure takes: 1 per record for a count, the field's
    value for a sum (null when it could not be decoded), only where `where` matches."""
    frame = pl.DataFrame({"record": pl.Series(records, dtype=pl.Int64)})
    condition = pl.lit(True)
    for key, allowed in figure.where:
        frame = frame.with_columns(values[key].cast(pl.Utf8).alias(f"w:{key}"))
        condition = condition & pl.col(f"w:{key}").is_in(list(allowed)).fill_null(False)
    if figure.kind == "count":
        value = pl.lit(1, dtype=pl.Int64)
    else:
        summed = figure.of.rpartition(".")[2]
        frame = frame.with_columns(values[summed].cast(pl.Int64, strict=False).alias("v"))
        value = pl.col("v")
    return frame.filter(condition).select("record", value.alias("value"))


def figure_fields(figure: FigureSpec) -> list[str]:
    """The fields of the counted/summed records a figure reads (its sum and its `where`)."""
    names = [key for key, _ in figure.where]
    if figure.kind == "sum":
        names.append(figure.of.rpartition(".")[2])
    return names


def needs_values(figure: FigureSpec) -> bool:
    """A plain `count: data` is counted from the framing alone; every other figure needs the
    (record, value) rows of the records it takes."""
    return not (figure.kind == "count" and figure.of == "data" and not figure.where)


def expect_problems(spec: FieldSpec, result_values: pl.Series, result_errors: pl.Series
                    ) -> np.ndarray:
    """Rows of a data field whose decoded value differs from the field's `expect` (a value
    that could not be decoded is already rejected for that)."""
    assert spec.expect is not None
    text = result_values.cast(pl.Utf8)
    bad = (text != spec.expect).fill_null(True) & result_errors.is_null()
    return np.flatnonzero(bad.to_numpy())
