"""Standard values as the numbers a fixed-width field is written from: dates as year, month and
day (0 for an unknown part), amounts as integers in the field's scale."""

from __future__ import annotations

import numpy as np
import polars as pl


def dates_of(values: pl.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month, day of dates or partial dates (YYYY[-MM[-DD]]); 0 = unknown or none."""
    text = values.cast(pl.Utf8).fill_null("")
    parts = text.str.split_exact("-", 2).struct.unnest()
    as_int = [parts[name].cast(pl.Int64, strict=False).fill_null(0).to_numpy()
              for name in parts.columns]
    return as_int[0], as_int[1], as_int[2]


def integers_of(values: pl.Series, scale: int) -> tuple[np.ndarray, np.ndarray]:
    """Integers (decimals times 10^scale) and where a value is present."""
    present = values.is_not_null().to_numpy()
    if values.dtype == pl.Utf8:
        numbers = values.str.strip_chars().cast(pl.Int64, strict=False)
    elif isinstance(values.dtype, pl.Decimal):
        numbers = (values.cast(pl.Float64) * 10**scale).round(0).cast(pl.Int64)
    else:
        numbers = values.cast(pl.Int64)
    return numbers.fill_null(0).to_numpy(), present
