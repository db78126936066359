"""Errors as data: a problem is a row (record, byte offset, field, column, reason, masked value).

Rejects and warnings are both tables of this shape, so the ledger counts them with a group-by
and the report lists them without parsing log lines.
"""

from __future__ import annotations

import polars as pl

PROBLEM_SCHEMA: dict[str, pl.DataType] = {
    "record": pl.Int64(),
    "offset": pl.Int64(),
    "field": pl.Utf8(),
    "column": pl.Utf8(),
    "reason": pl.Utf8(),
    "value": pl.Utf8(),
    "detail": pl.Utf8(),
}


def empty_problems() -> pl.DataFrame:
    return pl.DataFrame(schema=PROBLEM_SCHEMA)


def problems_frame(records, offsets, *, field: str | None, column: str | None,
                   reasons, values=None, detail=None) -> pl.DataFrame:
    """Build a problem table from parallel sequences (arrays, Series or lists)."""
    n = len(records)
    frame = pl.DataFrame({
        "record": pl.Series(records, dtype=pl.Int64),
        "offset": pl.Series(offsets, dtype=pl.Int64),
        "field": pl.Series([field] * n, dtype=pl.Utf8),
        "column": pl.Series([column] * n, dtype=pl.Utf8),
        "reason": pl.Series(reasons, dtype=pl.Utf8) if not isinstance(reasons, str)
        else pl.Series([reasons] * n, dtype=pl.Utf8),
        "value": pl.Series(values if values is not None else [None] * n, dtype=pl.Utf8),
        "detail": pl.Series(detail if detail is not None and not isinstance(detail, str)
                            else [detail] * n, dtype=pl.Utf8),
    })
    return frame


def concat_problems(frames: list[pl.DataFrame]) -> pl.DataFrame:
    frames = [f for f in frames if f.height]
    if not frames:
        return empty_problems()
    return pl.concat(frames, how="vertical").sort(["record", "offset"], maintain_order=True)
