"""The CHECK constraints a standard layout's rules become in the database (lengths, code lists,
min/max, the form of partial dates), so that the database refuses what the pipeline would
reject; and which decimals SQLite stores as integers.

A text's length is counted as the layout counts it (`migrate.layouts.characters`): a
variation selector (IVS) is part of the character before it, where the database's own
length() counts it as a character of its own."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from migrate.layouts import ColumnSpec
from migrate.layouts.characters import SELECTOR_RANGES, SELECTORS


def integer_decimal(spec: ColumnSpec) -> bool:
    """A decimal of scale 0 that fits a 64-bit integer: INTEGER in SQLite, so that it sorts,
    compares and sums as a number (a scale above 0 is kept as its exact text there)."""
    return spec.dtype == "decimal" and spec.scale == 0 and (spec.precision or 18) <= 18


def length_check(spec: ColumnSpec, dialect: str | None) -> Any | None:
    """The CHECK of a text column's `length` or `max_length`, or None. A `str` column counts a
    character with its variation selector as one; digits and codes count code points (a
    selector there is refused anyway: the pipeline rejects it as not_digits or
    code_not_allowed, so the database may count it)."""
    col = sa.column(spec.name)
    n = spec.length if spec.dtype in ("str", "digits", "code") else None
    if n is None and spec.dtype in ("str", "digits"):
        n = spec.max_length
    if not n:
        return None
    exact = bool(spec.length)
    if spec.dtype != "str" or dialect not in ("sqlite", "postgresql"):
        return sa.func.length(col) == n if exact else sa.func.length(col) <= n
    if dialect == "postgresql":
        counted = sa.func.char_length(sa.func.regexp_replace(col, f"[{SELECTORS}]", "", "g"))
        return counted == n if exact else sa.or_(sa.func.char_length(col) <= n, counted <= n)
    # SQLite has no regular expressions: the selectors are taken out with replace() and
    # counted by the bytes that went: 3 for each, as U+FE00…FE0F are 3 bytes in UTF-8 and of
    # the 4 bytes of U+E0100…E01EF (F3 A0 84 80 … F3 A0 87 AF) the 3 first go; 3 × length
    # less those bytes is 3 × the length as the layout counts it. (F3 A0 87 also starts the
    # 16 unassigned code points U+E01F0…E01FF, which SQLite thus lets pass as selectors too;
    # the pipeline counts them as characters and rejects before anything is loaded.)
    stripped: Any = col
    first, last = SELECTOR_RANGES[0]  # U+FE00…FE0F, one by one
    for selector in range(first, last + 1):
        stripped = sa.func.replace(stripped, chr(selector), "")
    for third in (0x84, 0x85, 0x86, 0x87):
        stripped = sa.func.replace(stripped, sa.literal_column(f"CAST(x'F3A0{third:02X}' AS TEXT)"),
                                   "")
    removed = sa.func.length(sa.cast(col, sa.LargeBinary)) \
        - sa.func.length(sa.cast(stripped, sa.LargeBinary))
    thrice = 3 * sa.func.length(col) - removed
    return thrice == 3 * n if exact else sa.or_(sa.func.length(col) <= n, thrice <= 3 * n)


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
