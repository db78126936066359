"""Column values derived from several fields or from part of one: code tables keyed by several
fields, the parts of a one-piece address; and the count of 外字 replaced in a text field."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import polars as pl

from migrate.decode import FieldResult
from migrate.decode.text import decode_user_defined
from migrate.i18n import t
from migrate.layouts import ColumnMapping, Mapping, SourceSpec
from migrate.layouts.tables import gaiji_code
from migrate.pii import mask
from migrate.problems import problems_frame
from migrate.transform.address import split_address


def split_column(cm: ColumnMapping, mapping: Mapping, header: dict[str, Any], series: pl.Series,
                 rec_no: np.ndarray, offsets: np.ndarray, problems: list[pl.DataFrame]
                 ) -> pl.Series:
    """One part of a one-piece address (migrate.transform.address). An address that cannot
    be split is one reject, named by the first column that splits it, for all of them."""
    values = series.cast(pl.Utf8)
    parts = {v: split_address(v) for v in values.drop_nulls().unique().to_list()}
    out = values.replace_strict({v: (getattr(p, cm.split) or None) if p else None
                                 for v, p in parts.items()}, default=None,
                                return_dtype=pl.Utf8).alias(cm.column)
    pii = mapping.pii_of_field(cm.source)
    splitting = [c.column for c in mapping.columns
                 if c.kind == "field" and c.source == cm.source and c.split]
    if cm.column == splitting[0]:
        bad = np.flatnonzero(values.is_in([v for v, p in parts.items() if p is None])
                             .to_numpy())
        if len(bad):
            problems.append(problems_frame(
                rec_no[bad], offsets[bad], field=cm.source, column=",".join(splitting),
                reasons="address_unsplit",
                values=[mask(v, pii or "address") for v in values.gather(bad).to_list()]))
    if cm.check_lg_code:
        expected = str(header.get(cm.check_lg_code) or "")
        codes = values.replace_strict({v: p.lg_code for v, p in parts.items() if p},
                                      default=None, return_dtype=pl.Utf8)
        other = np.flatnonzero((codes.is_not_null() & (codes != expected)).to_numpy())
        if len(other):
            problems.append(problems_frame(
                rec_no[other], offsets[other], field=cm.source, column=cm.column,
                reasons="address_other_lg_code", values=codes.gather(other),
                detail=t("the header's 団体コード is {code}", code=expected)))
    return out


def composite_codes(cm: ColumnMapping, mapping: Mapping, decoded: dict[str, FieldResult],
                    rec_no: np.ndarray, offsets: np.ndarray
                    ) -> tuple[pl.Series, list[pl.DataFrame]]:
    """A code table keyed by several fields: one standard code per combination of their
    vendor values (a blank field is matched by an empty cell); a combination the table
    does not list is unknown_code, naming every value."""
    table = cm.codes
    key = list(table.key)
    keys = pl.DataFrame({k: decoded[k].values.cast(pl.Utf8) for k in key})
    looked = pl.DataFrame(
        {**{k: [combo[i] for combo in table.mapping] for i, k in enumerate(key)},
         "__standard": list(table.mapping.values())},
        schema={**dict.fromkeys(key, pl.Utf8), "__standard": pl.Utf8})
    present = keys.select(pl.any_horizontal(pl.all().is_not_null())).to_series()
    failed = keys.select(pl.any_horizontal(
        [decoded[k].errors.is_not_null() for k in key])).to_series() \
        if keys.height else present
    joined = keys.with_columns(pl.all().fill_null("")).join(
        looked, on=key, how="left", maintain_order="left")
    series = joined["__standard"].alias(cm.column)
    series = pl.select(pl.when(present).then(series)).to_series().alias(cm.column)
    bad = np.flatnonzero((present & series.is_null() & ~failed).to_numpy())
    if not len(bad):
        return series, []
    shown = [", ".join(f"{k}={mask(v, mapping.pii_of_field(k))}"
                       for k, v in zip(key, row, strict=True))
             for row in keys[bad].fill_null("").rows()]
    return series, [problems_frame(rec_no[bad], offsets[bad], field=",".join(key),
                                   column=cm.column, reasons="unknown_code",
                                   values=shown, detail=table.path.name)]


def one_reject(mapping: Mapping, problems: pl.DataFrame) -> pl.DataFrame:
    """One problem, one reject: a combination of a code table keyed by several fields is not
    reported unknown again when one of its values is itself rejected (an unknown sex code is
    one reject, on the sex column, not a second one on 続柄). The value's problem then names
    the keyed column too, since it empties it (no `required_missing` follows there either)."""
    for cm in mapping.columns:
        if cm.kind != "codes" or cm.codes is None or problems.is_empty():
            continue
        mine = (pl.col("column") == cm.column) & (pl.col("reason") == "unknown_code")
        culprit = ~mine & pl.col("field").is_in(list(cm.codes.key))
        follow_on = mine & pl.col("record").is_in(
            problems.filter(culprit)["record"].unique().implode())
        emptied = problems.filter(follow_on)["record"].unique().implode()
        if not problems.select(follow_on.any()).item():
            continue
        problems = problems.filter(~follow_on).with_columns(
            pl.when(culprit & pl.col("record").is_in(emptied)
                    & ~pl.col("column").fill_null("").str.split(",").list.contains(cm.column))
            .then(pl.concat_str(pl.col("column").fill_null(""), pl.lit(cm.column),
                                separator=",").str.strip_chars_start(","))
            .otherwise(pl.col("column")).alias("column"))
    return problems


def count_gaiji(cells: np.ndarray, result: FieldResult, source: SourceSpec) -> Counter:
    """外字 replaced through the table in a decoded text column, per user-defined-area code
    (F040 …, F5A1 … in EUC-JP), for run.json. Only the rows whose decoded value holds a
    replacement of the table are decoded again, one by one, to count the codes in their bytes
    (a replacement such as 髙 may also have been written as an ordinary character)."""
    counts: Counter = Counter()
    if not source.gaiji or not len(cells):
        return counts
    replacements = sorted(set(source.gaiji.values()))
    holding = result.values.str.contains_any(replacements).fill_null(False).to_numpy()
    euc = source.encoding.startswith("euc")
    for row in np.flatnonzero(holding).tolist():
        raw = cells[row].tobytes()
        text = (decode_user_defined(raw, source.encoding) if euc else None) \
            or raw.decode(source.encoding, errors="replace")
        counts.update(gaiji_code(char, source.encoding) for char in text
                      if char in source.gaiji)
    return counts
