"""Standard layout → pandera schema (polars backend); lazy validation of whole chunks → problems.

The pandera schema is built from the schema YAML, so nothing is declared twice. Error-severity
checks reject the record; warning-severity checks keep it and are counted. Check names are the
reason codes of rejects.csv.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandera.polars as pa
import polars as pl
from pandera.errors import SchemaErrors

from migrate.checks import check_expression
from migrate.layouts import ColumnSpec, Mapping, RuleSpec, Schema
from migrate.mapping import OFFSET_COL, RECORD_COL, polars_dtype
from migrate.pii import mask
from migrate.problems import empty_problems, problems_frame

REQUIRED = "required_missing"


def field_offsets(mapping: Mapping) -> dict[str, tuple[str | None, int]]:
    """column → (source field, byte offset in the record), to locate validation problems."""
    return {cm.column: (cm.source, mapping.fields[cm.source].offset)
            for cm in mapping.columns if cm.kind == "field"}


def _check(name: str, build: Callable[[pl.Expr], pl.Expr]) -> pa.Check:
    return pa.Check(lambda data: data.lazyframe.select(build(pl.col(data.key))),
                    name=name, error=name)


def _column_checks(spec: ColumnSpec, severity: str) -> list[pa.Check]:
    checks: list[pa.Check] = []
    if severity == "error":
        if spec.dtype in ("str", "digits", "code") and spec.max_length:
            n = spec.max_length
            checks.append(_check("too_long", lambda e, n=n: e.is_null() | (e.str.len_chars() <= n)))
        if spec.length:
            n = spec.length
            checks.append(_check("wrong_length",
                                 lambda e, n=n: e.is_null() | (e.str.len_chars() == n)))
        if spec.dtype == "digits":
            checks.append(_check("not_digits", lambda e: e.is_null() | e.str.contains(r"^[0-9]+$")))
        if spec.dtype == "code" and spec.codes is not None:
            codes = list(spec.codes)
            checks.append(_check("code_not_allowed", lambda e, c=codes: e.is_null() | e.is_in(c)))
        if spec.dtype == "flag":
            checks.append(_check("invalid_flag", lambda e: e.is_null() | e.is_in([0, 1])))
        if spec.dtype == "partial_date":
            checks.append(_check("invalid_date", lambda e: e.is_null() | e.str.contains(
                r"^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$")))
        if spec.minimum is not None or spec.maximum is not None:
            lo, hi = spec.minimum, spec.maximum
            checks.append(_check("out_of_range", lambda e, lo=lo, hi=hi: e.is_null() | (
                (e >= lo if lo is not None else pl.lit(True))
                & (e <= hi if hi is not None else pl.lit(True)))))
    for check in spec.checks:
        if check.severity == severity:
            checks.append(_check(check.name, check_expression(check)))
    return checks


def _rule_checks(rule: RuleSpec) -> list[pa.Check]:
    condition = pl.all_horizontal([pl.lit(True)]
                                  + [pl.col(c).cast(pl.Utf8).is_in(list(v))
                                     for c, v in rule.when.items()]
                                  + [pl.col(c).is_not_null() for c in rule.when_present]
                                  ).fill_null(False)
    checks = []
    if rule.compare:
        left, op, right = rule.compare
        a, b = pl.col(left), pl.col(right)
        holds = {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b, "==": a == b,
                 "!=": a != b}[op]
        expr = ~condition | a.is_null() | b.is_null() | holds.fill_null(True)
        checks.append(pa.Check(lambda data, e=expr: data.lazyframe.select(e),
                               name=f"{rule.name}:{left}"))
    for column in rule.require:
        expr = ~condition | pl.col(column).is_not_null()
        checks.append(pa.Check(lambda data, e=expr: data.lazyframe.select(e),
                               name=f"{rule.name}:{column}"))
    for column in rule.forbid:
        expr = ~condition | pl.col(column).is_null()
        checks.append(pa.Check(lambda data, e=expr: data.lazyframe.select(e),
                               name=f"{rule.name}:{column}"))
    return checks


def build_pandera_schema(schema: Schema, severity: str = "error") -> pa.DataFrameSchema:
    """The pandera schema of a standard layout, for one severity."""
    columns = {
        spec.name: pa.Column(polars_dtype(spec), checks=_column_checks(spec, severity),
                             nullable=not spec.required or severity != "error",
                             required=True, coerce=False)
        for spec in schema.columns
    }
    rules = [c for r in schema.rules for c in _rule_checks(r)] if severity == "error" else []
    return pa.DataFrameSchema(columns, checks=rules, strict=False, ordered=False,
                              name=f"{schema.id}:{severity}")


class Validator:
    """Validates standardized chunks; returns (errors, warnings) problem tables."""

    def __init__(self, schema: Schema, field_of: dict[str, tuple[str | None, int]]):
        self.schema = schema
        self.field_of = field_of  # column → (source field, byte offset in record)
        self.errors_schema = build_pandera_schema(schema, "error")
        self.warnings_schema = build_pandera_schema(schema, "warning")
        self.has_warnings = any(c.severity == "warning" for s in schema.columns for c in s.checks)

    def validate(self, rows: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        errors = self._run(self.errors_schema, rows)
        warnings = self._run(self.warnings_schema, rows) if self.has_warnings \
            else empty_problems()
        return errors, warnings

    def _run(self, schema: pa.DataFrameSchema, rows: pl.DataFrame) -> pl.DataFrame:
        try:
            schema.validate(rows, lazy=True)
        except SchemaErrors as exc:
            return self._problems(exc.failure_cases, rows)
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
            spec = self.schema.column(column)
            field, field_offset = self.field_of.get(column, (None, 0))
            values = [mask(None if v is None else str(v), spec.pii)
                      for v in rows[column].gather(index).to_list()]
            frames.append(problems_frame(records[index], offsets[index] + field_offset,
                                         field=field, column=column, reasons=reason,
                                         values=values))
        return pl.concat(frames) if frames else empty_problems()
