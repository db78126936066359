"""Standard layout → the checks of its rows, as polars expressions; whole chunks → problems.

The checks are built from the schema YAML, so nothing is declared twice. Error-severity checks
reject the record; warning-severity checks keep it and are counted. Check names are the reason
codes of rejects.csv.

The checks run as plain polars expressions: one query computes every check of a chunk, and
only the checks that failed somewhere are turned into problems. The same rules also build a
pandera schema (`migrate.validate.panderaschema`), the reference this validator is tested
against (tests/validate/test_rows.py runs both over every bundled schema and generated
defective data and requires the same problems); running pandera itself on the hot path cost
every worker process about 2 s of imports (pandas and pydantic, which pandera loads) and one
query per check.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import polars as pl

from migrate.layouts import ColumnSpec, RuleSpec, Schema
from migrate.layouts.characters import SELECTORS
from migrate.pii import mask
from migrate.problems import empty_problems, problems_frame
from migrate.transform.mapper import OFFSET_COL, RECORD_COL, polars_dtype
from migrate.validate.checks import check_expression

REQUIRED = "required_missing"


Rule = tuple[str, Callable[[pl.Expr], pl.Expr]]  # (reason code, expression builder)


def text_length(e: pl.Expr) -> pl.Expr:
    """The length of a text as the layout counts it (`migrate.layouts.characters`): an IVS
    or other variation selector is part of the character before it."""
    return e.str.len_chars() - e.str.count_matches(f"[{SELECTORS}]")


def _at_most(e: pl.Expr, n: int, dtype: str) -> pl.Expr:
    """Not longer than n characters. Selectors are counted only in a text of more than n
    code points (the others pass either way); digits and codes are counted in code points: a
    selector there is rejected anyway (not_digits, code_not_allowed)."""
    chars = e.str.len_chars()
    if dtype != "str":
        return chars <= n
    return pl.when(chars <= n).then(pl.lit(True)).otherwise(text_length(e) <= n)


def _exactly(e: pl.Expr, n: int, dtype: str) -> pl.Expr:
    return (text_length(e) if dtype == "str" else e.str.len_chars()) == n


def column_rules(spec: ColumnSpec, severity: str) -> list[Rule]:
    """The checks of one column at one severity: (reason code, expression) pairs, True = passes."""
    rules: list[Rule] = []
    if severity == "error":
        if spec.dtype in ("str", "digits", "code") and spec.max_length:
            n, d = spec.max_length, spec.dtype
            rules.append(("too_long", lambda e, n=n, d=d: e.is_null() | _at_most(e, n, d)))
        if spec.length:
            n, d = spec.length, spec.dtype
            rules.append(("wrong_length", lambda e, n=n, d=d: e.is_null() | _exactly(e, n, d)))
        if spec.dtype == "digits":
            rules.append(("not_digits", lambda e: e.is_null() | e.str.contains(r"^[0-9]+$")))
        if spec.dtype == "code" and spec.codes is not None:
            codes = list(spec.codes)
            rules.append(("code_not_allowed", lambda e, c=codes: e.is_null() | e.is_in(c)))
        if spec.dtype == "flag":
            rules.append(("invalid_flag", lambda e: e.is_null() | e.is_in([0, 1])))
        if spec.dtype == "partial_date":
            rules.append(("invalid_date", lambda e: e.is_null() | e.str.contains(
                r"^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$")))
        if spec.minimum is not None or spec.maximum is not None:
            lo, hi = spec.minimum, spec.maximum
            rules.append(("out_of_range", lambda e, lo=lo, hi=hi: e.is_null() | (
                (e >= lo if lo is not None else pl.lit(True))
                & (e <= hi if hi is not None else pl.lit(True)))))
    for check in spec.checks:
        if check.severity == severity:
            rules.append((check.name, check_expression(check)))
    return rules


def row_rules(rule: RuleSpec) -> list[tuple[str, pl.Expr]]:
    """A row rule as (name:column, expression) pairs, True = passes."""
    condition = pl.all_horizontal([pl.lit(True)]
                                  + [pl.col(c).cast(pl.Utf8).is_in(list(v))
                                     for c, v in rule.when.items()]
                                  + [pl.col(c).is_not_null() for c in rule.when_present]
                                  ).fill_null(False)
    exprs = []
    if rule.compare:
        left, op, right = rule.compare
        a, b = pl.col(left), pl.col(right)
        holds = {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b, "==": a == b,
                 "!=": a != b}[op]
        exprs.append((f"{rule.name}:{left}",
                      ~condition | a.is_null() | b.is_null() | holds.fill_null(True)))
    for column in rule.require:
        exprs.append((f"{rule.name}:{column}", ~condition | pl.col(column).is_not_null()))
    for column in rule.forbid:
        exprs.append((f"{rule.name}:{column}", ~condition | pl.col(column).is_null()))
    return exprs


def checks_of(schema: Schema, severity: str) -> list[tuple[str, str, pl.Expr]]:
    """(column, reason, expression) of every check of one severity, in the order the problems
    are listed: per column its requiredness, then its rules; then the row rules. An expression
    is True where the row passes; null counts as a pass (as in pandera, whose checks ignore
    nulls: requiredness is its own check)."""
    checks: list[tuple[str, str, pl.Expr]] = []
    for spec in schema.columns:
        col = pl.col(spec.name)
        if severity == "error" and spec.required:
            checks.append((spec.name, REQUIRED, col.is_not_null()))
        checks += [(spec.name, reason, build(col)) for reason, build in
                   column_rules(spec, severity)]
    if severity == "error":
        for rule in schema.rules:
            for name, expr in row_rules(rule):
                reason, column = name.split(":", 1)
                checks.append((column, reason, expr))
    return checks


class Validator:
    """Validates standardized chunks; returns (errors, warnings) problem tables."""

    def __init__(self, schema: Schema, field_of: dict[str, tuple[str | None, int]]):
        self.schema = schema
        self.field_of = field_of  # column → (source field, byte offset in record)
        self.dtypes = {spec.name: polars_dtype(spec) for spec in schema.columns}
        self.checks = {severity: checks_of(schema, severity)
                       for severity in ("error", "warning")}

    def validate(self, rows: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        self._check_types(rows)
        return self._run("error", rows), self._run("warning", rows)

    def _check_types(self, rows: pl.DataFrame) -> None:
        """The mapper builds every column with its layout's type: anything else is a bug."""
        wrong = [name for name, dtype in self.dtypes.items()
                 if name not in rows.columns or rows.schema[name] != dtype]
        if wrong:
            raise AssertionError(f"schema-level validation failure: columns {wrong}")

    def _run(self, severity: str, rows: pl.DataFrame) -> pl.DataFrame:
        checks = self.checks[severity]
        if not checks or rows.height == 0:
            return empty_problems()
        passes = [expr.fill_null(True).alias(str(i)) for i, (_, _, expr) in enumerate(checks)]
        flags = rows.select(passes)
        failing = flags.select(pl.all().not_().any()).row(0)
        if not any(failing):
            return empty_problems()
        records = rows[RECORD_COL].to_numpy()
        offsets = rows[OFFSET_COL].to_numpy()
        frames = []
        for i, (column, reason, _) in enumerate(checks):
            if not failing[i]:
                continue
            index = np.flatnonzero(~flags[str(i)].to_numpy())
            frames.append(located_problems(rows, records, offsets, index, column, reason,
                                           self.schema, self.field_of))
        return pl.concat(frames)


def located_problems(rows: pl.DataFrame, records: np.ndarray, offsets: np.ndarray,
                     index: np.ndarray, column: str, reason: str, schema: Schema,
                     field_of: dict[str, tuple[str | None, int]]) -> pl.DataFrame:
    """The problems of one check at the rows `index`: each at its record and the byte offset
    of the field the column came from, its value masked by the column's personal-data kind."""
    spec = schema.column(column)
    field, field_offset = field_of.get(column, (None, 0))
    values = [mask(None if v is None else str(v), spec.pii)
              for v in rows[column].gather(index).to_list()]
    return problems_frame(records[index], offsets[index] + field_offset, field=field,
                          column=column, reasons=reason, values=values)
