"""The pandera schema of a standard layout (polars backend), built from the same rules as
`migrate.validate.rows`: the reference that the plain-polars validator is tested against, and a
schema users can take to their own pandera code. pandera (with pandas, when installed) is
imported only here, never by the per-chunk work.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandera.polars as pa
import polars as pl
from pandera.errors import SchemaErrors

from migrate.layouts import Schema
from migrate.problems import empty_problems
from migrate.transform.mapper import OFFSET_COL, RECORD_COL, polars_dtype
from migrate.validate.rows import REQUIRED, column_rules, located_problems, row_rules


def _check(name: str, build: Callable[[pl.Expr], pl.Expr]) -> pa.Check:
    return pa.Check(lambda data: data.lazyframe.select(build(pl.col(data.key))),
                    name=name, error=name)


def _frame_check(name: str, expr: pl.Expr) -> pa.Check:
    return pa.Check(lambda data, e=expr: data.lazyframe.select(e), name=name)


def build_pandera_schema(schema: Schema, severity: str = "error") -> pa.DataFrameSchema:
    """The pandera schema of a standard layout, for one severity: one check per rule, so a
    failure names its reason."""
    columns = {
        spec.name: pa.Column(polars_dtype(spec),
                             checks=[_check(n, b) for n, b in column_rules(spec, severity)],
                             nullable=not spec.required or severity != "error",
                             required=True, coerce=False)
        for spec in schema.columns
    }
    rules = [_frame_check(name, expr) for r in schema.rules for name, expr in row_rules(r)] \
        if severity == "error" else []
    return pa.DataFrameSchema(columns, checks=rules, strict=False, ordered=False,
                              name=f"{schema.id}:{severity}")


def build_screen_schema(schema: Schema, severity: str = "error") -> pa.DataFrameSchema | None:
    """The same rules as build_pandera_schema, as one pandera check over the whole row.

    pandera evaluates each check with a query of its own; with dozens of checks that costs more
    than decoding the chunk. The screen runs every rule (requiredness included) in one query; a
    row it flags is then run through the per-rule schema, which names the reasons. Where a rule
    cannot say (null), the row is flagged, so the screen never lets through a row the per-rule
    schema would reject. None when the severity has no rules.
    """
    exprs = [build(pl.col(spec.name)).fill_null(False)
             for spec in schema.columns for _, build in column_rules(spec, severity)]
    if severity == "error":
        exprs += [pl.col(spec.name).is_not_null() for spec in schema.columns if spec.required]
        exprs += [expr.fill_null(False) for r in schema.rules for _, expr in row_rules(r)]
    if not exprs:
        return None
    columns = {spec.name: pa.Column(polars_dtype(spec), nullable=True, required=True,
                                    coerce=False)
               for spec in schema.columns}
    passes = pl.all_horizontal(exprs).alias("passes")
    return pa.DataFrameSchema(columns, checks=[_frame_check("screen", passes)], strict=False,
                              ordered=False, name=f"{schema.id}:{severity}:screen")


class PanderaValidator:
    """The pandera path: validates standardized chunks; returns (errors, warnings) problem
    tables like `migrate.validate.rows.Validator`."""

    def __init__(self, schema: Schema, field_of: dict[str, tuple[str | None, int]]):
        self.schema = schema
        self.field_of = field_of  # column → (source field, byte offset in record)
        self.schemas = {severity: (build_screen_schema(schema, severity),
                                   build_pandera_schema(schema, severity))
                        for severity in ("error", "warning")}

    def validate(self, rows: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        return self._run("error", rows), self._run("warning", rows)

    def _run(self, severity: str, rows: pl.DataFrame) -> pl.DataFrame:
        screen, per_rule = self.schemas[severity]
        if screen is None:
            return empty_problems()
        try:
            screen.validate(rows, lazy=True)
            return empty_problems()
        except SchemaErrors as exc:
            cases = exc.failure_cases["index"]
        flagged = cases.drop_nulls()
        # A schema-level failure (a column's type) has no row: then every row is looked at.
        subset = rows if flagged.len() < cases.len() else \
            rows[flagged.unique().sort().cast(pl.Int64)]
        try:
            per_rule.validate(subset, lazy=True)
        except SchemaErrors as exc:
            return self._problems(exc.failure_cases, subset)
        return empty_problems()

    def _problems(self, cases: pl.DataFrame, rows: pl.DataFrame) -> pl.DataFrame:
        cases = cases.filter(pl.col("index").is_not_null())
        if cases.is_empty():
            unexpected = cases.select("check").to_series().to_list()
            raise AssertionError(f"schema-level validation failure: {unexpected}")
        frames = []
        records = rows[RECORD_COL].to_numpy()
        offsets = rows[OFFSET_COL].to_numpy()
        for (column, check), group in cases.group_by(["column", "check"], maintain_order=True):
            index = group["index"].to_numpy().astype(np.int64)
            if check and ":" in check:  # a row rule: name:column
                reason, column = check.split(":", 1)
            else:
                reason = REQUIRED if check == "not_nullable" else str(check)
            frames.append(located_problems(rows, records, offsets, index, column, reason,
                                           self.schema, self.field_of))
        return pl.concat(frames) if frames else empty_problems()
