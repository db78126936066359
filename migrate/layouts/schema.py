"""Standard layouts (schemas/<layout>/vN.yaml): columns, checks, references, row rules and group
checks, loaded into frozen dataclasses. Everything that can be checked without data is
checked here, with `file:line` in the error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from migrate.errors import LayoutError, MigrateError, UsageError
from migrate.layouts.bundled import bundled_dir
from migrate.layouts.loading import LAYOUT_ID, _as_list, _as_values, _Ctx, _read_yaml
from migrate.layouts.shapes import (
    CODES,
    FLAG,
    NUMBER,
    POSITIVE,
    TEXT,
    TITLE,
    WHOLE,
    AnyOf,
    ListOf,
    Named,
    Obj,
    Value,
)
from migrate.layouts.tables import read_csv_table
from migrate.layouts.yamlpos import LocatedDict

DTYPES = ("str", "digits", "code", "int", "decimal", "date", "partial_date", "flag")
CHECKS = (
    "lg_code_check_digit",
    "my_number_check_digit",
    "jumin_code_check_digit",
    "houjin_no_check_digit",
    "katakana",
    "zokugara_chain",
    "pattern",
)
# Column keys that only make sense for some dtypes (a length check on a date column would fail
# for every row with no row to blame).
_TEXT = ("str", "digits", "code")
_APPLIES_TO = {"length": _TEXT, "max_length": _TEXT, "checks": _TEXT,
               "precision": ("decimal",), "scale": ("decimal",),
               "min": ("int", "decimal", "flag"), "max": ("int", "decimal", "flag")}
# Python's re accepts these, the Rust regex engine the checks run in (polars) does not: a
# pattern using one would fail on the first chunk instead of at load.
_UNSUPPORTED_REGEX = re.compile(r"\(\?(?:<?[=!]|>|#|P=)|\\[1-9]|\\Z|\\N\{|\{,")
PII_KINDS = ("my_number", "name", "address", "date", "id")
#: Character sets the `katakana` check can be given (`set:`); their definitions and sources
#: are in migrate.validate.checks.
KANA_SETS = ("strict", "zengin", "jis_x0208_kana")
SEVERITIES = ("error", "warning")

# The keys of a schema file (shapes.py: the loaders' unknown-key check and the JSON Schema).
_NAMES = ListOf(item=TEXT, single=True)
_WHEN = Named("Column → the values that make the rule apply.", item=CODES)
CHECK = Obj("A check with its parameters (pattern: …).", {
    "check": Value(enum=CHECKS), "severity": Value(enum=SEVERITIES)}, required=("check",),
    open=True)
REFERENCE = Obj("Every value must exist as the primary key of another layout.", {
    "layout": Value("The other layout: an id (juki/v1) or a path."), "column": TEXT,
    "unless": _WHEN, "unless_found": Value(enum=SEVERITIES)}, required=("layout", "column"))
COLUMN_SPEC = Obj("One column of the standard layout.", {
    "name": Value("Lower-case ASCII: it becomes an SQL column."), "ja": TEXT, "en": TEXT,
    "dtype": Value(enum=DTYPES), "required": FLAG, "length": POSITIVE, "max_length": POSITIVE,
    "precision": POSITIVE, "scale": WHOLE, "min": NUMBER, "max": NUMBER,
    "codes": Value("The code list (CSV with a code column), relative to the schema."),
    "checks": ListOf(item=AnyOf(options=(Value(enum=CHECKS), CHECK))),
    "pii": Value("Personal data: masked on screen and in reports.", enum=PII_KINDS),
    "references": REFERENCE}, required=("name", "dtype"))
RULE = Obj("A row rule.", {
    "name": TEXT, "ja": TEXT, "en": TEXT, "when": _WHEN, "when_present": _NAMES,
    "require": _NAMES, "forbid": _NAMES,
    "compare": Value("'column operator column', e.g. loss_date >= get_date.")},
    required=("name",))
GROUP_CHECK = Obj("A rule over groups of rows.", {
    "name": TEXT, "ja": TEXT, "en": TEXT, "group_by": _NAMES, "among": _WHEN,
    "count_where": _WHEN, "exactly": Value(kinds=("integer",), minimum=0, maximum=1),
    "severity": Value(enum=SEVERITIES)}, required=("name", "group_by", "count_where", "exactly"))
SCHEMA = Obj("A standard layout (migrate).", {
    "layout": Value("The layout id: name/vN, e.g. juki/v1."), "title": TITLE,
    "primary_key": _NAMES, "columns": ListOf(item=COLUMN_SPEC), "rules": ListOf(item=RULE),
    "group_checks": ListOf(item=GROUP_CHECK)}, required=("layout", "columns"))

@dataclass(frozen=True)
class CheckSpec:
    """A named check on a standard column; severity 'error' rejects, 'warning' keeps and counts."""

    name: str
    severity: str = "error"
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Reference:
    """`references: {layout: juki/v1, column: atena_no}`: every value of the column must exist
    in that column (the primary key) of that layout; the database gets a foreign key.

    When the other layout's primary key has several columns (zeimu/v1: tax_year, atena_no),
    `column` names one of them and the others are matched by this layout's columns of the same
    name: an income record of zeimu_shotoku/v1 refers to the taxpayer of its own tax year."""

    layout: str
    column: str
    line: int = 0
    unless: dict[str, tuple[str, ...]] = field(default_factory=dict)  # rows exempt (住登外)
    # an exempt row whose key IS in the other layout (the same person in both files):
    found: str = "warning"  # warning | error
    col: int = 0  # the column of `line`
    # set when the layout is loaded: this layout's columns that must be found together in the
    # other layout, and the other layout's primary key they are looked up in (same order)
    columns: tuple[str, ...] = ()
    target_columns: tuple[str, ...] = ()

    def describe(self) -> str:
        """juki/v1.atena_no; with a key of several columns the others too: zeimu/v1.atena_no
        (+ tax_year)."""
        others = [c for c in self.target_columns if c != self.column]
        return f"{self.layout}.{self.column}" + (f" (+ {', '.join(others)})" if others else "")


@dataclass(frozen=True)
class ColumnSpec:
    """One column of a standard layout."""

    name: str
    ja: str
    en: str
    dtype: str
    required: bool = False
    length: int | None = None
    max_length: int | None = None
    precision: int | None = None
    scale: int = 0
    minimum: float | None = None
    maximum: float | None = None
    codes: tuple[str, ...] | None = None
    code_table: Path | None = None
    checks: tuple[CheckSpec, ...] = ()
    pii: str | None = None
    references: Reference | None = None
    line: int = 0


@dataclass(frozen=True)
class RuleSpec:
    """A row-level rule: when some columns hold some values (`when`) and/or are filled in
    (`when_present`), others must be present / absent, or two columns must compare."""

    name: str
    ja: str
    en: str
    when: dict[str, tuple[str, ...]]
    require: tuple[str, ...] = ()
    forbid: tuple[str, ...] = ()
    line: int = 0
    when_present: tuple[str, ...] = ()
    compare: tuple[str, str, str] | None = None  # (left column, operator, right column)


@dataclass(frozen=True)
class GroupCheckSpec:
    """A rule over groups of rows of one layout (e.g. each household has exactly one head).

    It needs the whole file, so it is evaluated before the rows are written (a first pass that
    reads only the grouping columns); severity 'error' rejects every record of a failing group."""

    name: str
    ja: str
    en: str
    group_by: tuple[str, ...]
    count_where: dict[str, tuple[str, ...]]
    exactly: int
    severity: str = "error"
    line: int = 0
    among: dict[str, tuple[str, ...]] = field(default_factory=dict)  # rows that form groups


@dataclass(frozen=True)
class Schema:
    """A standard layout (e.g. juki/v1) loaded from schemas/."""

    id: str
    title_ja: str
    title_en: str
    columns: tuple[ColumnSpec, ...]
    primary_key: tuple[str, ...]
    rules: tuple[RuleSpec, ...]
    path: Path
    group_checks: tuple[GroupCheckSpec, ...] = ()

    @property
    def name(self) -> str:
        """File stem used for outputs: juki/v1 → juki."""
        return self.id.split("/")[0]

    def column(self, name: str) -> ColumnSpec:
        return next(c for c in self.columns if c.name == name)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

def find_schema(ref: str, relative_to: Path | None = None) -> Path:
    """A schema by id (juki/v1) in the bundled folder, or by path (relative to a mapping)."""
    candidates = []
    as_path = Path(ref)
    if relative_to is not None and not as_path.is_absolute():
        candidates.append(relative_to / as_path)
    candidates.append(as_path)
    candidates.append(bundled_dir("schemas") / f"{ref}.yaml")
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise UsageError("unknown schema '{ref}'", {"ref": ref}, rule="schema-not-found",
                     hint="Use a bundled id such as juki/v1 or a path to a schema YAML file "
                          "(relative to the mapping file).")


def _load_checks(ctx: _Ctx, node: LocatedDict) -> tuple[CheckSpec, ...]:
    raw = node.get("checks") or []
    if not isinstance(raw, list):
        raise ctx.fail(node, "checks", "'checks' must be a list")
    specs = []
    for item in raw:
        if isinstance(item, str):
            name, severity, params = item, "error", {}
        elif isinstance(item, LocatedDict):
            name = str(ctx.require(item, "check", "a check"))
            severity = str(item.get("severity", "error"))
            params = {k: v for k, v in item.items() if k not in ("check", "severity")}
            if severity not in ("error", "warning"):
                raise ctx.fail(item, "severity", "severity must be 'error' or 'warning'")
        else:
            raise ctx.fail(node, "checks", "each check is a name or a mapping with 'check'")
        if name not in CHECKS:
            raise ctx.fail(node, "checks", "unknown check '{check}'", "Known checks: {known}.",
                           check=name, known=", ".join(CHECKS))
        if name == "katakana":
            kana_set = str(params.get("set", "strict"))
            if set(params) - {"set"} or kana_set not in KANA_SETS:
                raise ctx.fail(node, "checks", "the katakana check takes set: one of {known}",
                               known=", ".join(KANA_SETS))
        if name == "pattern":
            pattern = str(params.get("pattern", ""))
            try:
                re.compile(pattern)
            except re.error:
                raise ctx.fail(node, "checks", "the pattern is not a valid regular expression"
                               ) from None
            unsupported = _UNSUPPORTED_REGEX.search(pattern)
            if unsupported:
                raise ctx.fail(node, "checks", "the pattern uses {construct}, which the "
                               "regular-expression engine of the checks does not support",
                               "Patterns run in polars (Rust's regex): no lookaround, "
                               "backreferences, atomic groups, comments, \\Z or {{,n}}; "
                               "anchor with ^ and $ instead.",
                               construct=unsupported.group(0))
        specs.append(CheckSpec(name, severity, params))
    return tuple(specs)


def _load_column(ctx: _Ctx, node: LocatedDict, base: Path) -> ColumnSpec:
    ctx.only_keys(node, COLUMN_SPEC, "a column")
    name = ctx.identifier(node, "name", ctx.require(node, "name", "a column"), "column name")
    what = f"column {name}"
    dtype = str(ctx.require(node, "dtype", what))
    if dtype not in DTYPES:
        raise ctx.fail(node, "dtype", "unknown dtype '{dtype}'", "Known dtypes: {known}.",
                       dtype=dtype, known=", ".join(DTYPES))
    pii = node.get("pii")
    if pii is not None and pii not in PII_KINDS:
        raise ctx.fail(node, "pii", "unknown pii kind '{pii}'", "Known kinds: {known}.",
                       pii=pii, known=", ".join(PII_KINDS))
    for key, dtypes in _APPLIES_TO.items():
        if node.get(key) not in (None, [], 0) and dtype not in dtypes:
            raise ctx.fail(node, key, "'{key}' does not apply to a {dtype} column",
                           "It applies to {dtypes} columns; remove it or change the dtype.",
                           key=key, dtype=dtype, dtypes=", ".join(dtypes))
    precision = ctx.number(node, "precision", what, whole=True, minimum=1)
    scale = ctx.number(node, "scale", what, whole=True) or 0
    if (precision or 18) > 38 or scale > (precision or 18):
        raise ctx.fail(node, "precision", "a decimal column holds at most 38 digits, and its "
                       "scale ({scale}) at most its precision ({precision})",
                       scale=scale, precision=precision or 18)
    codes = code_table = None
    if dtype == "code":
        code_table = base / str(ctx.require(node, "codes", f"code column {name}"))
        rows = read_csv_table(code_table, ("code",))
        codes = tuple(r["code"] for r in rows)
    return ColumnSpec(
        name=name, ja=str(node.get("ja", name)), en=str(node.get("en", name)), dtype=dtype,
        required=bool(node.get("required", False)),
        length=ctx.number(node, "length", what, whole=True, minimum=1),
        max_length=ctx.number(node, "max_length", what, whole=True, minimum=1),
        precision=precision, scale=scale,
        minimum=ctx.number(node, "min", what), maximum=ctx.number(node, "max", what),
        codes=codes, code_table=code_table, checks=_load_checks(ctx, node), pii=pii,
        references=_load_reference(ctx, node), line=node.line)


def _load_reference(ctx: _Ctx, node: LocatedDict) -> Reference | None:
    if node.get("references") is None:
        return None
    ref = ctx.mapping(node["references"], "references", node)
    ctx.only_keys(ref, REFERENCE, "references")
    unless = {}
    if ref.get("unless") is not None:
        unless = {str(k): _as_values(v) for k, v in
                  ctx.mapping(ref["unless"], "unless", ref).items()}
    found = str(ref.get("unless_found", "warning"))
    if found not in ("warning", "error"):
        raise ctx.fail(ref, "unless_found", "unless_found must be 'warning' or 'error'")
    column = ctx.identifier(ref, "column", ctx.require(ref, "column", "references"),
                            "referenced column")
    return Reference(str(ctx.require(ref, "layout", "references")), column,
                     node.line_of("references"), unless, found, node.col_of("references"))


def _check_references(ctx: _Ctx, layout_id: str, columns: tuple[ColumnSpec, ...],
                      pk: tuple[str, ...], base: Path) -> tuple[ColumnSpec, ...]:
    """A reference must name the whole primary key of an existing layout; it is stored with
    that layout's id (`references: {layout: ../oya/v1.yaml}` → oya/v1). The other layout's YAML
    is only read for its id, column names and key, so layouts may refer to each other."""
    checked = []
    for spec in columns:
        try:
            checked.append(_check_reference(ctx, layout_id, spec, columns, pk, base))
        except MigrateError as error:  # collecting: noted at the reference, the column kept
            if ctx.problems is None:
                raise
            assert spec.references is not None
            if error.file is None or error.file == ctx.path:
                error.file, error.rule = ctx.path, "schema-reference"
                error.line, error.col = spec.references.line, spec.references.col
            ctx.report(error)
            checked.append(replace(spec, references=None))
    return tuple(checked)


def _check_reference(ctx: _Ctx, layout_id: str, spec: ColumnSpec,
                     columns: tuple[ColumnSpec, ...], pk: tuple[str, ...], base: Path
                     ) -> ColumnSpec:
    ref = spec.references
    if ref is not None:
        if ref.layout == layout_id:
            target_id, target_columns, target_pk = layout_id, [c.name for c in columns], pk
        else:
            other_path = find_schema(ref.layout, base)
            other = _read_yaml(other_path)
            target_id = _Ctx(other_path).identifier(
                other, "layout", other.get("layout", ref.layout), "layout id", LAYOUT_ID)
            other_columns = other.get("columns")
            target_columns = [str(c.get("name")) for c in other_columns
                              if isinstance(c, dict)] if isinstance(other_columns, list) \
                else []
            target_pk = tuple(str(k) for k in _as_list(other.get("primary_key") or []))
        own = {c.name for c in columns}
        if ref.column not in target_columns or ref.column not in target_pk or any(
                key != ref.column and key not in own for key in target_pk):
            raise LayoutError(
                "column {column} refers to {layout}.{target}, which is not the primary key "
                "of that layout", {"column": spec.name, "layout": ref.layout,
                                   "target": ref.column},
                file=ctx.path, line=ref.line,
                hint="A reference must name a primary-key column of the other layout; the "
                     "other columns of that key are matched by columns of the same name, "
                     "which this layout must have.")
        matched = tuple(spec.name if k == ref.column else k for k in target_pk)
        spec = replace(spec, references=replace(ref, layout=target_id, columns=matched,
                                                target_columns=target_pk))
    return spec

def load_schema(ref: str | Path, relative_to: Path | None = None,
                problems: list[MigrateError] | None = None) -> Schema:
    """Load a standard layout by id or path. With `problems`, every problem found is noted
    there and the loading goes on as far as it can."""
    path = find_schema(str(ref), relative_to)
    ctx = _Ctx(path, problems)
    data = _read_yaml(path, ctx)
    ctx.only_keys(data, SCHEMA, "a schema")
    layout_id = ctx.identifier(data, "layout", ctx.require(data, "layout", "the schema"),
                               "layout id", LAYOUT_ID)
    title_ja, title_en = ctx.titles(data, layout_id)
    raw_columns = ctx.require(data, "columns", "the schema")
    if not isinstance(raw_columns, list) or not raw_columns:
        raise ctx.fail(data, "columns", "'columns' must be a non-empty list")
    loaded = []
    for item in raw_columns:
        with ctx.attempt(item if isinstance(item, LocatedDict) else data, None):
            loaded.append(_load_column(ctx, ctx.mapping(item, "columns", data), path.parent))
    columns = tuple(loaded)
    names = [c.name for c in columns]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        ctx.report(ctx.fail(data, "columns", "column(s) declared twice: {names}",
                            names=", ".join(dupes)))
    pk = ctx.names(data, "primary_key")
    for key in pk:
        if key not in names:
            ctx.report(ctx.fail(data, "primary_key", "primary key column '{key}' is not a "
                                "column", key=key))
    columns = _check_references(ctx, layout_id, columns, pk, path.parent)
    for spec in columns:
        if spec.references is not None:
            for col in spec.references.unless:
                if col not in names:
                    ctx.report(LayoutError(
                        "the reference of {column} is conditional on unknown column '{col}'",
                        {"column": spec.name, "col": col}, file=path,
                        line=spec.references.line, col=spec.references.col,
                        rule="schema-reference"))
    rules = []
    if not isinstance(data.get("rules") or [], list):
        raise ctx.fail(data, "rules", "'rules' must be a list")
    for raw in data.get("rules") or []:
        with ctx.attempt(raw if isinstance(raw, LocatedDict) else data, None):
            rules.append(_load_rule(ctx, raw, data, columns, names))
    return Schema(layout_id, title_ja, title_en, columns, pk, tuple(rules), path,
                  _load_group_checks(ctx, data, names))


def _load_rule(ctx: _Ctx, raw: Any, data: LocatedDict, columns: tuple[ColumnSpec, ...],
               names: list[str]) -> RuleSpec:
    node = ctx.mapping(raw, "rules", data)
    ctx.only_keys(node, RULE, "a rule")
    when = {str(k): _as_values(v) for k, v in ctx.mapping(
        node.get("when") or LocatedDict(), "when", node).items()}
    when_present = ctx.names(node, "when_present")
    require = ctx.names(node, "require")
    forbid = ctx.names(node, "forbid")
    compare = _load_compare(ctx, node)
    if not (require or forbid or compare):
        raise ctx.fail(node, None, "a rule needs require, forbid or compare")
    for col in (*when, *when_present, *require, *forbid,
                *((compare[0], compare[2]) if compare else ())):
        if col not in names:
            raise ctx.fail(node, None, "rule refers to unknown column '{col}'", col=col)
    if compare:
        kinds = [_KIND.get(dtype, "text") for dtype in
                 (columns[names.index(compare[0])].dtype,
                  columns[names.index(compare[2])].dtype)]
        if kinds[0] != kinds[1]:
            raise ctx.fail(node, "compare", "compare puts {left} ({a}) beside {right} ({b}), "
                           "which cannot be compared",
                           "Compare numbers with numbers, dates with dates, text with text.",
                           left=compare[0], a=kinds[0], right=compare[2], b=kinds[1])
    return RuleSpec(str(ctx.require(node, "name", "a rule")), str(node.get("ja", "")),
                    str(node.get("en", "")), when, require, forbid, node.line,
                    when_present, compare)


# What a compare rule may put side by side (polars compares within a kind only).
_KIND = {"int": "number", "decimal": "number", "flag": "number", "date": "date"}
COMPARE_OPERATORS = ("<", "<=", ">", ">=", "==", "!=")


def _load_compare(ctx: _Ctx, node: LocatedDict) -> tuple[str, str, str] | None:
    """`compare: "shikaku_loss_date >= shikaku_get_date"` (checked where both are filled in)."""
    if node.get("compare") is None:
        return None
    parts = str(node["compare"]).split()
    if len(parts) != 3 or parts[1] not in COMPARE_OPERATORS:
        raise ctx.fail(node, "compare", "compare must read 'column operator column' with one of "
                       "{ops}", ops=" ".join(COMPARE_OPERATORS))
    return parts[0], parts[1], parts[2]


def _load_group_checks(ctx: _Ctx, data: LocatedDict, names: list[str]
                       ) -> tuple[GroupCheckSpec, ...]:
    raw = data.get("group_checks") or []
    if not isinstance(raw, list):
        raise ctx.fail(data, "group_checks", "'group_checks' must be a list")
    checks = []
    for item in raw:
        with ctx.attempt(item if isinstance(item, LocatedDict) else data, None):
            checks.append(_load_group_check(ctx, item, data, names))
    return tuple(checks)


def _load_group_check(ctx: _Ctx, item: Any, data: LocatedDict, names: list[str]
                      ) -> GroupCheckSpec:
    node = ctx.mapping(item, "group_checks", data)
    ctx.only_keys(node, GROUP_CHECK, "a group check")
    name = str(ctx.require(node, "name", "a group check"))
    ctx.require(node, "group_by", "a group check")
    group_by = ctx.names(node, "group_by")
    where = {str(k): _as_values(v) for k, v in ctx.mapping(
        ctx.require(node, "count_where", "a group check"), "count_where", node).items()}
    among = {str(k): _as_values(v) for k, v in ctx.mapping(
        node.get("among") or LocatedDict(), "among", node).items()}
    for col in (*group_by, *where, *among):
        if col not in names:
            raise ctx.fail(node, None, "group check {name} refers to unknown column '{col}'",
                           name=name, col=col)
    severity = str(node.get("severity", "error"))
    if severity not in ("error", "warning"):
        raise ctx.fail(node, "severity", "severity must be 'error' or 'warning'")
    exactly = ctx.integer(node, "exactly", "a group check")
    if exactly > 1:
        raise ctx.fail(node, "exactly", "exactly must be 0 or 1 (none or one matching "
                       "record per group)")
    return GroupCheckSpec(name, str(node.get("ja", "")), str(node.get("en", "")),
                          group_by, where, exactly, severity, node.line, among)
