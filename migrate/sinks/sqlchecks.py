"""The CHECK constraints a standard layout's rules become in the database (code lists, min/max,
the form of partial dates), so that the database refuses what the pipeline would reject; and
which decimals SQLite stores as integers."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from migrate.layouts import ColumnSpec


def integer_decimal(spec: ColumnSpec) -> bool:
    """A decimal of scale 0 that fits a 64-bit integer: INTEGER in SQLite, so that it sorts,
    compares and sums as a number (a scale above 0 is kept as its exact text there)."""
    return spec.dtype == "decimal" and spec.scale == 0 and (spec.precision or 18) <= 18


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def value_checks(spec: ColumnSpec, dialect: str | None) -> list[tuple[str, Any]]:
    """(name suffix, condition) of the CHECKs that follow the schema's rules on values: the
    code list, min/max and the form of a partial date (YYYY, YYYY-MM or YYYY-MM-DD, digits
    only, as migrate.validate.rows checks it; 不詳 parts are left out, not zeroed)."""
    col = sa.column(spec.name)
    checks: list[tuple[str, Any]] = []
    if spec.dtype == "code" and spec.codes:
        if dialect == "sqlite" and not any("|" in code for code in spec.codes):
            # SQLite evaluates `IN (…)` of a CHECK as a new list for every row it inserts
            # (the load of juki took five times as long); one instr() in '|1|2|…|' is exact
            # when the value itself holds no '|'
            listed = "|" + "|".join(spec.codes) + "|"
            checks.append(("code", sa.and_(sa.func.instr(col, "|") == 0,
                                           sa.func.instr(listed, "|" + col + "|") > 0)))
        else:
            checks.append(("code", col.in_(list(spec.codes))))
    if spec.minimum is not None or spec.maximum is not None:
        value: Any = col
        if spec.dtype == "decimal" and dialect == "sqlite" and not integer_decimal(spec):
            value = sa.cast(col, sa.Numeric)  # compare the text of the decimal as a number
        bounds = []
        if spec.minimum is not None:
            bounds.append(value >= _number(spec.minimum))
        if spec.maximum is not None:
            bounds.append(value <= _number(spec.maximum))
        checks.append(("range", sa.and_(*bounds)))
    if spec.dtype == "partial_date":
        if dialect == "sqlite":  # SQLite has no regular expressions: three GLOB patterns
            year = "[0-9]" * 4
            two = "[0-9]" * 2
            checks.append(("form", sa.or_(*(col.op("GLOB")(pattern) for pattern in (
                year, f"{year}-{two}", f"{year}-{two}-{two}")))))
        elif dialect == "postgresql":
            checks.append(("form", col.regexp_match(r"^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$")))
    return checks
