"""Load mapping and schema YAML into small typed objects; execution code never reads raw dicts.

Everything that can be checked without data is checked here, with `file:line` in the error:
unknown keys and types, fields outside the record, columns the target does not have, required
target columns left unmapped, code tables that produce codes the target does not allow.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from migrate.bundled import bundled_dir
from migrate.decode.dates import DEFAULT_ERAS, Era, EraTable, can_mark_unknown
from migrate.decode.text import supported_encoding
from migrate.errors import LayoutError, UsageError
from migrate.yamlpos import LocatedDict, LocatedList, load_yaml

FIELD_TYPES = ("text", "digits", "zoned", "packed", "decimal", "wareki", "ymd")
DELIMITED_TYPES = ("text", "digits", "zoned", "decimal", "wareki", "ymd")
AGGREGATES = ("sum", "count", "only")
NUMERIC_FIELD_TYPES = ("digits", "zoned", "packed", "decimal")
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
PII_KINDS = ("my_number", "name", "address", "date", "id")
MAX_PACKED_BYTES = 9  # 17 digits: fits int64 exactly
MAX_ZONED_DIGITS = 18


# ---------------------------------------------------------------- schema (standard layout)


@dataclass(frozen=True)
class CheckSpec:
    """A named check on a standard column; severity 'error' rejects, 'warning' keeps and counts."""

    name: str
    severity: str = "error"
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Reference:
    """`references: {layout: juki/v1, column: atena_no}`: every value of the column must exist
    in that column (the primary key) of that layout; the database gets a foreign key."""

    layout: str
    column: str
    line: int = 0
    unless: dict[str, tuple[str, ...]] = field(default_factory=dict)  # rows exempt (住登外)
    # an exempt row whose key IS in the other layout (the same person in both files):
    found: str = "warning"  # warning | error


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


# ---------------------------------------------------------------- mapping (legacy → standard)


@dataclass(frozen=True)
class FieldSpec:
    """A byte range of a fixed-width record and how to decode it.

    In a delimited source the field is a cell (`column` index or header `column_name`) and
    `offset` is its slot in the synthetic fixed-width row the reader builds, `length` the
    most bytes the cell may hold."""

    name: str
    offset: int
    length: int
    type: str
    scale: int = 0
    strip: str = "both"
    lenient_calendar: bool = False
    line: int = 0
    column: int | None = None
    column_name: str | None = None

    @property
    def end(self) -> int:
        return self.offset + self.length


@dataclass(frozen=True)
class RecordTypes:
    """Where the record-type code sits and which codes mean header / data / trailer."""

    offset: int
    length: int
    data: str
    header: str | None = None
    trailer: str | None = None
    column: int | None = None  # delimited sources: the cell that holds the code
    children: tuple[tuple[str, str], ...] = ()  # (code, record name) of child record types


@dataclass(frozen=True)
class SourceSpec:
    """How the legacy file is framed and encoded."""

    format: str
    encoding: str
    record_length: int
    newline: bytes
    eof_marker: int | None
    record_types: RecordTypes | None
    eras: EraTable
    unknown_date_parts: tuple[str, ...]
    gaiji: dict[str, str]
    gaiji_file: Path | None
    delimiter: bytes = b""
    quote: bytes | None = None
    header_line: bool = False

    @property
    def delimited(self) -> bool:
        return self.format == "delimited"

    @property
    def stride(self) -> int:
        """Bytes per record on disk, newline included."""
        return self.record_length + len(self.newline)


@dataclass(frozen=True)
class TrailerSpec:
    """Trailer fields: the record count and control totals of data fields."""

    count: FieldSpec | None
    control_totals: dict[str, FieldSpec]


@dataclass(frozen=True)
class CodeTable:
    """A vendor → standard code table (CSV: source,standard[,note])."""

    path: Path
    mapping: dict[str, str]


@dataclass(frozen=True)
class ChildRecord:
    """A record type that belongs to the data (parent) record before it, e.g. one income record
    per income category after a taxpayer record; its values reach the parent's row through
    column mappings with `from: record.field`, `where` and `aggregate`."""

    name: str
    code: str
    fields: dict[str, FieldSpec]
    key: tuple[tuple[str, str], ...] = ()  # (child field, parent field) that must be equal
    line: int = 0


@dataclass(frozen=True)
class ColumnMapping:
    """How one standard column is produced."""

    column: str
    kind: str  # field | header | record_number | child
    source: str | None = None
    kana: str | None = None
    codes: CodeTable | None = None
    line: int = 0
    record: str | None = None  # kind child: the child record type
    where: tuple[tuple[str, tuple[str, ...]], ...] = ()  # kind child: child field → values
    aggregate: str | None = None  # kind child: sum | count | only


@dataclass(frozen=True)
class Mapping:
    """A legacy source described against a target standard layout."""

    id: str
    version: int
    title_ja: str
    title_en: str
    target: Schema
    source: SourceSpec
    header_fields: dict[str, FieldSpec]
    trailer: TrailerSpec | None
    fields: dict[str, FieldSpec]
    columns: tuple[ColumnMapping, ...]
    path: Path
    children: dict[str, ChildRecord] = field(default_factory=dict)

    def field_spec(self, name: str) -> FieldSpec:
        """A data field by name, or a child record's field as `record.field`."""
        if "." in name and name.split(".", 1)[0] in self.children:
            record, child_field = name.split(".", 1)
            return self.children[record].fields[child_field]
        return self.fields[name]

    def pii_of_field(self, field_name: str, record: str | None = None) -> str | None:
        """A field is personal data when a column it feeds is (declared once, in the schema)."""
        for cm in self.columns:
            if cm.kind in ("field", "child") and cm.source == field_name and cm.record == record:
                pii = self.target.column(cm.column).pii
                if pii:
                    return pii
        return None


# ---------------------------------------------------------------- loading helpers


class _Ctx:
    """Location context for errors while reading one YAML file."""

    def __init__(self, path: Path):
        self.path = path

    def fail(self, node: Any, at: str | None, message: str, hint: str | None = None, /,
             **params: Any) -> LayoutError:
        """The error at `node` (the line of its key `at` when given); `params` fill the
        message, so they may use any name — `key` included."""
        line = None
        if isinstance(node, LocatedDict):
            line = node.line_of(at) if at else node.line
        elif isinstance(node, LocatedList):
            line = node.line
        return LayoutError(message, params, file=self.path, line=line, hint=hint,
                           hint_params=params)

    def mapping(self, node: Any, key: str, parent: Any) -> LocatedDict:
        if not isinstance(node, LocatedDict):
            raise self.fail(parent, key, "'{key}' must be a mapping of names to values", key=key)
        return node

    def only_keys(self, node: LocatedDict, allowed: tuple[str, ...], what: str) -> None:
        for key in node:
            if key not in allowed:
                raise self.fail(node, key, "unknown key '{key}' in {what}",
                                "Allowed keys: {allowed}.", key=key, what=what,
                                allowed=", ".join(allowed))

    def require(self, node: LocatedDict, key: str, what: str) -> Any:
        if key not in node or node[key] is None:
            raise self.fail(node, None, "'{key}' is missing in {what}", key=key, what=what)
        return node[key]

    def integer(self, node: LocatedDict, key: str, what: str, minimum: int = 0) -> int:
        value = self.require(node, key, what)
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            raise self.fail(node, key, "'{key}' in {what} must be a whole number ≥ {minimum}",
                            key=key, what=what, minimum=minimum)
        return value


def _read_yaml(path: Path) -> LocatedDict:
    try:
        data = load_yaml(path)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise LayoutError("the YAML cannot be parsed: {problem}",
                          {"problem": getattr(exc, "problem", str(exc))}, file=path,
                          line=mark.line + 1 if mark else None,
                          hint="Check indentation and quoting around this line.") from None
    except OSError as exc:
        raise UsageError("cannot read {path}: {reason}", {"path": path, "reason": exc.strerror},
                         hint="Check the path and its permissions.") from None
    if not isinstance(data, LocatedDict):
        raise LayoutError("the file must hold a YAML mapping at the top level", file=path, line=1)
    return data


def read_csv_table(path: Path, columns: tuple[str, ...]) -> list[dict[str, str]]:
    """Read a small UTF-8 CSV table (code tables, gaiji tables), insisting on its columns."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in columns if c not in (reader.fieldnames or [])]
            if missing:
                raise LayoutError("the table lacks the column(s) {missing}",
                                  {"missing": ", ".join(missing)}, file=path, line=1,
                                  hint="The first line must name the columns: {columns}.",
                                  hint_params={"columns": ",".join(columns)})
            return [row for row in reader]
    except FileNotFoundError:
        raise UsageError("the table {path} does not exist", {"path": path},
                         hint="Fix the path in the mapping; it is relative to the mapping file."
                         ) from None
    except UnicodeDecodeError:
        raise LayoutError("the table is not UTF-8 text", file=path,
                          hint="Save it as UTF-8 (with or without BOM).") from None


# ---------------------------------------------------------------- schema loading


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
    raise UsageError("unknown schema '{ref}'", {"ref": ref},
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
        if name == "pattern":
            try:
                re.compile(str(params.get("pattern", "")))
            except re.error:
                raise ctx.fail(node, "checks", "the pattern is not a valid regular expression"
                               ) from None
        specs.append(CheckSpec(name, severity, params))
    return tuple(specs)


def _load_column(ctx: _Ctx, node: LocatedDict, base: Path) -> ColumnSpec:
    ctx.only_keys(node, ("name", "ja", "en", "dtype", "required", "length", "max_length",
                         "precision", "scale", "min", "max", "codes", "checks", "pii",
                         "references"), "a column")
    name = str(ctx.require(node, "name", "a column"))
    dtype = str(ctx.require(node, "dtype", f"column {name}"))
    if dtype not in DTYPES:
        raise ctx.fail(node, "dtype", "unknown dtype '{dtype}'", "Known dtypes: {known}.",
                       dtype=dtype, known=", ".join(DTYPES))
    pii = node.get("pii")
    if pii is not None and pii not in PII_KINDS:
        raise ctx.fail(node, "pii", "unknown pii kind '{pii}'", "Known kinds: {known}.",
                       pii=pii, known=", ".join(PII_KINDS))
    codes = code_table = None
    if dtype == "code":
        code_table = base / str(ctx.require(node, "codes", f"code column {name}"))
        rows = read_csv_table(code_table, ("code",))
        codes = tuple(r["code"] for r in rows)
    return ColumnSpec(
        name=name, ja=str(node.get("ja", name)), en=str(node.get("en", name)), dtype=dtype,
        required=bool(node.get("required", False)), length=node.get("length"),
        max_length=node.get("max_length"), precision=node.get("precision"),
        scale=int(node.get("scale", 0)), minimum=node.get("min"), maximum=node.get("max"),
        codes=codes, code_table=code_table, checks=_load_checks(ctx, node), pii=pii,
        references=_load_reference(ctx, node), line=node.line)


def _load_reference(ctx: _Ctx, node: LocatedDict) -> Reference | None:
    if node.get("references") is None:
        return None
    ref = ctx.mapping(node["references"], "references", node)
    ctx.only_keys(ref, ("layout", "column", "unless", "unless_found"), "references")
    unless = {}
    if ref.get("unless") is not None:
        unless = {str(k): _as_values(v) for k, v in
                  ctx.mapping(ref["unless"], "unless", ref).items()}
    found = str(ref.get("unless_found", "warning"))
    if found not in ("warning", "error"):
        raise ctx.fail(ref, "unless_found", "unless_found must be 'warning' or 'error'")
    return Reference(str(ctx.require(ref, "layout", "references")),
                     str(ctx.require(ref, "column", "references")), node.line_of("references"),
                     unless, found)


def _check_references(ctx: _Ctx, layout_id: str, columns: tuple[ColumnSpec, ...],
                      pk: tuple[str, ...], base: Path) -> tuple[ColumnSpec, ...]:
    """A reference must name the whole primary key of an existing layout; it is stored with
    that layout's id (`references: {layout: ../oya/v1.yaml}` → oya/v1). The other layout's YAML
    is only read for its id, column names and key, so layouts may refer to each other."""
    checked = []
    for spec in columns:
        ref = spec.references
        if ref is not None:
            if ref.layout == layout_id:
                target_id, target_columns, target_pk = layout_id, [c.name for c in columns], pk
            else:
                other = _read_yaml(find_schema(ref.layout, base))
                target_id = str(other.get("layout", ref.layout))
                target_columns = [str(c.get("name")) for c in other.get("columns") or []
                                  if isinstance(c, dict)]
                target_pk = tuple(str(k) for k in other.get("primary_key") or ())
            if ref.column not in target_columns or target_pk != (ref.column,):
                raise LayoutError(
                    "column {column} refers to {layout}.{target}, which is not the primary key "
                    "of that layout", {"column": spec.name, "layout": ref.layout,
                                       "target": ref.column},
                    file=ctx.path, line=ref.line,
                    hint="A reference must name the one primary-key column of the other layout.")
            spec = replace(spec, references=replace(ref, layout=target_id))
        checked.append(spec)
    return tuple(checked)


def _as_values(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else (str(value),)


def load_schema(ref: str | Path, relative_to: Path | None = None) -> Schema:
    """Load a standard layout by id or path."""
    path = find_schema(str(ref), relative_to)
    ctx = _Ctx(path)
    data = _read_yaml(path)
    ctx.only_keys(data, ("layout", "title", "primary_key", "columns", "rules", "group_checks"),
                  "a schema")
    layout_id = str(ctx.require(data, "layout", "the schema"))
    title = data.get("title") or {}
    raw_columns = ctx.require(data, "columns", "the schema")
    if not isinstance(raw_columns, list) or not raw_columns:
        raise ctx.fail(data, "columns", "'columns' must be a non-empty list")
    columns = tuple(_load_column(ctx, ctx.mapping(c, "columns", data), path.parent)
                    for c in raw_columns)
    names = [c.name for c in columns]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ctx.fail(data, "columns", "column(s) declared twice: {names}", names=", ".join(dupes))
    pk = tuple(str(k) for k in data.get("primary_key") or ())
    for key in pk:
        if key not in names:
            raise ctx.fail(data, "primary_key", "primary key column '{key}' is not a column",
                           key=key)
    columns = _check_references(ctx, layout_id, columns, pk, path.parent)
    for spec in columns:
        if spec.references is not None:
            for col in spec.references.unless:
                if col not in names:
                    raise LayoutError("the reference of {column} is conditional on unknown "
                                      "column '{col}'", {"column": spec.name, "col": col},
                                      file=path, line=spec.references.line)
    rules = []
    for raw in data.get("rules") or []:
        node = ctx.mapping(raw, "rules", data)
        ctx.only_keys(node, ("name", "ja", "en", "when", "when_present", "require", "forbid",
                             "compare"), "a rule")
        when = {str(k): _as_values(v) for k, v in ctx.mapping(
            node.get("when") or LocatedDict(), "when", node).items()}
        when_present = tuple(str(c) for c in _as_list(node.get("when_present") or []))
        require = tuple(str(c) for c in node.get("require") or ())
        forbid = tuple(str(c) for c in node.get("forbid") or ())
        compare = _load_compare(ctx, node)
        if not (require or forbid or compare):
            raise ctx.fail(node, None, "a rule needs require, forbid or compare")
        for col in (*when, *when_present, *require, *forbid,
                    *((compare[0], compare[2]) if compare else ())):
            if col not in names:
                raise ctx.fail(node, None, "rule refers to unknown column '{col}'", col=col)
        rules.append(RuleSpec(str(ctx.require(node, "name", "a rule")), str(node.get("ja", "")),
                              str(node.get("en", "")), when, require, forbid, node.line,
                              when_present, compare))
    return Schema(layout_id, str(title.get("ja", layout_id)), str(title.get("en", layout_id)),
                  columns, pk, tuple(rules), path, _load_group_checks(ctx, data, names))


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
        node = ctx.mapping(item, "group_checks", data)
        ctx.only_keys(node, ("name", "ja", "en", "group_by", "among", "count_where", "exactly",
                             "severity"), "a group check")
        name = str(ctx.require(node, "name", "a group check"))
        group_by = tuple(str(c) for c in _as_list(ctx.require(node, "group_by", "a group check")))
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
        checks.append(GroupCheckSpec(name, str(node.get("ja", "")), str(node.get("en", "")),
                                     group_by, where, exactly, severity, node.line, among))
    return tuple(checks)


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


# ---------------------------------------------------------------- mapping loading


def find_mapping(ref: str | Path) -> Path:
    """A mapping by path, or by id (vendor_a/juki) in the bundled mappings folder."""
    as_path = Path(ref)
    if as_path.is_file():
        return as_path
    bundled = bundled_dir("mappings") / f"{ref}.yaml"
    if bundled.is_file():
        return bundled
    known = ", ".join(list_bundled_mappings()) or "-"
    raise UsageError("unknown mapping '{ref}'", {"ref": str(ref)},
                     hint="Give a path to a mapping YAML file or one of the bundled ids: {known}.",
                     hint_params={"known": known})


def list_bundled_mappings() -> list[str]:
    root = bundled_dir("mappings")
    return sorted(str(p.relative_to(root).with_suffix("")) for p in root.rglob("*.yaml"))


class _Slots:
    """Hands out slots of the synthetic fixed-width row a delimited source is read into."""

    def __init__(self, start: int = 0):
        self.width = start

    def take(self, length: int) -> int:
        offset, self.width = self.width, self.width + length
        return offset


def _load_field(ctx: _Ctx, name: str, node: Any, parent: LocatedDict, source: SourceSpec,
                slots: _Slots | None = None) -> FieldSpec:
    """One field; in a delimited source (`slots` given) a cell by `column` or header `name`."""
    node = ctx.mapping(node, name, parent)
    what = f"field {name}"
    common = ("length", "type", "scale", "strip", "lenient_calendar")
    column = column_name = None
    if slots is not None:
        ctx.only_keys(node, ("column", "name", *common), what)
        if ("column" in node) == ("name" in node):
            raise ctx.fail(node, None, "field {name} needs either 'column' (0-based position) or "
                           "'name' (the header line's name)", name=name)
        if "column" in node:
            column = ctx.integer(node, "column", what)
        else:
            if not source.header_line:
                raise ctx.fail(node, "name", "field {name} is found by header name, but the "
                               "source has no header line", "Set source.header_line: true or "
                               "use column: with the 0-based position.", name=name)
            column_name = str(node["name"])
        length = ctx.integer(node, "length", what, minimum=1)
        offset = slots.take(length)
    else:
        ctx.only_keys(node, ("offset", *common), what)
        offset = ctx.integer(node, "offset", what)
        length = ctx.integer(node, "length", what, minimum=1)
    ftype = str(ctx.require(node, "type", what))
    allowed = DELIMITED_TYPES if slots is not None else FIELD_TYPES
    if ftype not in allowed:
        raise ctx.fail(node, "type", "unknown field type '{type}'", "Known types: {known}.",
                       type=ftype, known=", ".join(allowed))
    if slots is None and offset + length > source.record_length:
        raise ctx.fail(node, "offset",
                       "field {name} (bytes {start}–{end}) reaches past the {size}-byte record",
                       "Offsets and lengths are in bytes; offsets count from 0. Check the layout "
                       "document.",
                       name=name, start=offset, end=offset + length - 1, size=source.record_length)
    if ftype == "packed" and length > MAX_PACKED_BYTES:
        raise ctx.fail(node, "length", "packed field {name} is longer than {max} bytes",
                       name=name, max=MAX_PACKED_BYTES)
    if ftype in ("zoned", "decimal") and length > MAX_ZONED_DIGITS + (ftype == "decimal") * 2:
        raise ctx.fail(node, "length", "zoned field {name} is longer than {max} digits",
                       name=name, max=MAX_ZONED_DIGITS)
    era_width = source.eras.code_width
    if ftype == "wareki" and length != era_width + 6:
        raise ctx.fail(node, "length", "a wareki field must be {n} bytes long (era code + YYMMDD)",
                       n=era_width + 6)
    if ftype == "ymd" and length != 8:
        raise ctx.fail(node, "length", "a ymd field must be 8 bytes long (YYYYMMDD)")
    strip = str(node.get("strip", "both"))
    if strip not in ("both", "full", "half", "none"):
        raise ctx.fail(node, "strip", "strip must be one of both, full, half, none")
    scale = node.get("scale", 0)
    if not isinstance(scale, int) or isinstance(scale, bool) or not 0 <= scale <= 18:
        raise ctx.fail(node, "scale", "scale must be a whole number from 0 to 18")
    return FieldSpec(name, offset, length, ftype, scale, strip,
                     bool(node.get("lenient_calendar", False)), node.line, column, column_name)


def _load_fields(ctx: _Ctx, node: Any, key: str, parent: LocatedDict,
                 source: SourceSpec, slots: _Slots | None = None) -> dict[str, FieldSpec]:
    node = ctx.mapping(node, key, parent)
    return {str(n): _load_field(ctx, str(n), v, node, source, slots) for n, v in node.items()}


def load_code_table(path: Path) -> CodeTable:
    rows = read_csv_table(path, ("source", "standard"))
    mapping: dict[str, str] = {}
    for number, row in enumerate(rows, start=2):
        src = row["source"]
        if src in mapping:
            raise LayoutError("source code '{code}' appears twice", {"code": src}, file=path,
                              line=number, hint="Each vendor code must map to one standard code.")
        mapping[src] = row["standard"]
    return CodeTable(path, mapping)


def load_gaiji_table(path: Path) -> dict[str, str]:
    """外字 table (CSV: code,char[,note]) keyed by the PUA character the cp932 codec yields."""
    table: dict[str, str] = {}
    for number, row in enumerate(read_csv_table(path, ("code", "char")), start=2):
        code = row["code"].strip().upper()
        try:
            lead, trail = int(code[:2], 16), int(code[2:], 16)
            if len(code) != 4 or not (0xF0 <= lead <= 0xF9) or not (0x40 <= trail <= 0xFC) \
                    or trail == 0x7F:
                raise ValueError
        except ValueError:
            raise LayoutError("'{code}' is not a user-defined-area code (F040–F9FC)",
                              {"code": code}, file=path, line=number) from None
        pua = bytes([lead, trail]).decode("cp932")
        if not row["char"]:
            raise LayoutError("gaiji {code} has no replacement character", {"code": code},
                              file=path, line=number,
                              hint="Fill in the character identified for it (MJ / 行政事務標準文字).")
        table[pua] = row["char"]
    return table


def _load_eras(ctx: _Ctx, node: Any, parent: LocatedDict) -> EraTable:
    if node is None or node == "default":
        return DEFAULT_ERAS
    if not isinstance(node, list):
        raise ctx.fail(parent, "eras", "'eras' is 'default' or a list of {code, name, first, last}")
    eras = []
    for item in node:
        item = ctx.mapping(item, "eras", parent)
        first, last = item.get("first"), item.get("last")
        if not isinstance(first, date) or (last is not None and not isinstance(last, date)):
            raise ctx.fail(item, None, "era first/last must be dates like 1989-01-08")
        eras.append(Era(str(ctx.require(item, "code", "an era")),
                        str(item.get("name", "")), first, last))
    try:
        return EraTable(tuple(eras))
    except ValueError as exc:
        raise ctx.fail(parent, "eras", "the era table is not usable: {reason}",
                       reason=str(exc)) from None


def _load_source(ctx: _Ctx, node: LocatedDict, base: Path) -> SourceSpec:
    fmt = str(node.get("format", "fixed"))
    if fmt not in ("fixed", "delimited"):
        raise ctx.fail(node, "format", "source format '{fmt}' is not supported",
                       "Use format: fixed or format: delimited.", fmt=fmt)
    delimited = fmt == "delimited"
    common = ("format", "encoding", "newline", "eof_marker", "record_type", "eras",
              "unknown_date_parts", "gaiji")
    if delimited:
        ctx.only_keys(node, (*common, "delimiter", "quote", "header_line"), "source")
    else:
        ctx.only_keys(node, (*common, "record_length"), "source")
    encoding = str(node.get("encoding", "cp932"))
    try:
        encoding = supported_encoding(encoding)
    except (LookupError, ValueError):
        raise ctx.fail(node, "encoding", "encoding '{enc}' cannot be used",
                       "Use one of: cp932, shift_jis, shift_jis_2004, euc_jp, euc_jis_2004, "
                       "utf-8.", enc=encoding) from None
    newline_name = str(node.get("newline", "crlf"))
    newlines = {"crlf": b"\r\n", "lf": b"\n", "none": b""}
    if newline_name not in newlines or (delimited and newline_name == "none"):
        raise ctx.fail(node, "newline", "newline must be crlf, lf or none"
                       if not delimited else "newline must be crlf or lf")
    eof = node.get("eof_marker")
    record_types = _load_record_types(ctx, node, delimited)
    delimiter, quote = b"", None
    if delimited:
        delimiter = _single_byte(ctx, node, "delimiter", ",")
        quote = _single_byte(ctx, node, "quote", '"') if node.get("quote", '"') else None
        if delimiter == quote or delimiter in b"\r\n":
            raise ctx.fail(node, "delimiter", "the delimiter cannot be the quote or a newline")
        record_length = record_types.length if record_types else 0
    else:
        record_length = ctx.integer(node, "record_length", "source", minimum=1)
    gaiji_file = base / str(node["gaiji"]) if node.get("gaiji") else None
    unknown = tuple(str(v) for v in node.get("unknown_date_parts") or ("00",))
    for part in unknown:
        if not can_mark_unknown(part):
            raise ctx.fail(node, "unknown_date_parts", "'{part}' cannot mark an unknown month "
                           "or day: use two digits that are not a real month or day, such as "
                           "00 or 99", part=part)
    return SourceSpec(
        format=fmt, encoding=encoding, record_length=record_length,
        newline=newlines[newline_name], eof_marker=int(eof) if eof is not None else None,
        record_types=record_types, eras=_load_eras(ctx, node.get("eras"), node),
        unknown_date_parts=unknown,
        gaiji=load_gaiji_table(gaiji_file) if gaiji_file else {}, gaiji_file=gaiji_file,
        delimiter=delimiter, quote=quote, header_line=bool(node.get("header_line", False)))


def _single_byte(ctx: _Ctx, node: LocatedDict, key: str, default: str) -> bytes:
    value = str(node.get(key, default)).encode("ascii", "replace")
    if len(value) != 1 or value[0] >= 0x40:
        raise ctx.fail(node, key, "{name} must be one ASCII character below '@' such as , or "
                       "a tab (bytes from 0x40 up can be the second byte of a double-byte "
                       "character)", name=key)
    return value


def _load_record_types(ctx: _Ctx, node: LocatedDict, delimited: bool) -> RecordTypes | None:
    if "record_type" not in node:
        return None
    rt = ctx.mapping(node["record_type"], "record_type", node)
    position = "column" if delimited else "offset"
    ctx.only_keys(rt, (position, "length", "header", "data", "trailer"), "record_type")
    codes = {k: (str(rt[k]) if rt.get(k) is not None else None)
             for k in ("header", "data", "trailer")}
    if delimited:
        column = ctx.integer(rt, "column", "record_type")
        width = max(len(c.encode("ascii", "replace")) for c in codes.values() if c)
        return RecordTypes(0, width, str(ctx.require(rt, "data", "record_type")),
                           codes["header"], codes["trailer"], column=column)
    rt_offset = ctx.integer(rt, "offset", "record_type")
    rt_length = ctx.integer(rt, "length", "record_type", minimum=1)
    for key, code in codes.items():
        if code is not None and len(code.encode("ascii", "replace")) != rt_length:
            raise ctx.fail(rt, key, "record type code '{code}' is not {n} byte(s) long",
                           code=code, n=rt_length)
    return RecordTypes(rt_offset, rt_length, str(ctx.require(rt, "data", "record_type")),
                       codes["header"], codes["trailer"])


def _load_column_mapping(ctx: _Ctx, column: str, node: Any, parent: LocatedDict,
                         mapping: dict[str, Any], base: Path) -> ColumnMapping:
    line = parent.line_of(column)
    if isinstance(node, str):
        node_d: dict[str, Any] = {"from": node}
    else:
        node_d = ctx.mapping(node, column, parent)
        ctx.only_keys(node_d, ("from", "header", "source", "kana", "codes", "where",
                               "aggregate"), f"column {column}")
    codes = load_code_table(base / str(node_d["codes"])) if node_d.get("codes") else None
    kana = node_d.get("kana")
    if kana is not None and kana != "fullwidth":
        raise ctx.fail(parent, column, "kana must be 'fullwidth'")
    children: dict[str, ChildRecord] = mapping["children"]
    if "from" in node_d and str(node_d["from"]).split(".", 1)[0] in children \
            and "." in str(node_d["from"]):
        return _load_child_column(ctx, column, node_d, parent, children, kana, codes, line)
    if "where" in node_d or "aggregate" in node_d:
        raise ctx.fail(parent, column, "'where' and 'aggregate' are for columns taken from a "
                       "child record (from: record.field)")
    if "from" in node_d:
        name = str(node_d["from"])
        if name not in mapping["fields"]:
            raise ctx.fail(parent, column, "column {column} takes unknown field '{name}'",
                           "Declare it under fields: or fix the name.", column=column, name=name)
        return ColumnMapping(column, "field", name, kana, codes, line)
    if "header" in node_d:
        name = str(node_d["header"])
        if name not in mapping["header"]:
            raise ctx.fail(parent, column, "column {column} takes unknown header field '{name}'",
                           column=column, name=name)
        return ColumnMapping(column, "header", name, kana, codes, line)
    if node_d.get("source") == "record_number":
        return ColumnMapping(column, "record_number", None, None, None, line)
    raise ctx.fail(parent, column, "column {column} needs 'from', 'header' or "
                   "'source: record_number'", column=column)


def _load_child_column(ctx: _Ctx, column: str, node: dict[str, Any], parent: LocatedDict,
                       children: dict[str, ChildRecord], kana: str | None,
                       codes: CodeTable | None, line: int) -> ColumnMapping:
    record, name = str(node["from"]).split(".", 1)
    child = children[record]
    if name not in child.fields:
        raise ctx.fail(parent, column, "column {column} takes unknown field '{name}' of record "
                       "type {record}", column=column, name=name, record=record)
    where_node = node.get("where") or {}
    if not isinstance(where_node, dict):
        raise ctx.fail(parent, column, "'where' must map child fields to values")
    where = tuple((str(k), _as_values(v)) for k, v in where_node.items())
    for key, _ in where:
        if key not in child.fields:
            raise ctx.fail(parent, column, "'where' of column {column} names unknown field "
                           "'{name}' of record type {record}", column=column, name=key,
                           record=record)
    numeric = child.fields[name].type in NUMERIC_FIELD_TYPES
    aggregate = str(node.get("aggregate", "sum" if numeric else "only"))
    if aggregate not in AGGREGATES:
        raise ctx.fail(parent, column, "aggregate must be one of {known}",
                       known=", ".join(AGGREGATES))
    if aggregate == "sum" and not numeric:
        raise ctx.fail(parent, column, "aggregate sum needs a numeric field; {name} is {type}",
                       name=name, type=child.fields[name].type)
    return ColumnMapping(column, "child", name, kana, codes, line, record, where, aggregate)


def _load_children(ctx: _Ctx, data: LocatedDict, source: SourceSpec
                   ) -> dict[str, ChildRecord]:
    if not data.get("records"):
        return {}
    node = ctx.mapping(data["records"], "records", data)
    if source.delimited or source.record_types is None:
        raise ctx.fail(data, "records", "child record types need a fixed-width source with "
                       "source.record_type")
    rt = source.record_types
    taken = {rt.data, rt.header, rt.trailer}
    children = {}
    for name, raw in node.items():
        child = ctx.mapping(raw, str(name), node)
        what = f"record type {name}"
        ctx.only_keys(child, ("code", "belongs_to", "key", "fields"), what)
        code = str(ctx.require(child, "code", what))
        if len(code.encode("ascii", "replace")) != rt.length:
            raise ctx.fail(child, "code", "record type code '{code}' is not {n} byte(s) long",
                           code=code, n=rt.length)
        if code in taken:
            raise ctx.fail(child, "code", "record type code '{code}' is used twice", code=code)
        taken.add(code)
        if str(child.get("belongs_to", "previous")) != "previous":
            raise ctx.fail(child, "belongs_to", "belongs_to must be 'previous': a child record "
                           "belongs to the nearest data record before it",
                           "If the file joins by key only, sort it by that key first.")
        fields = _load_fields(ctx, ctx.require(child, "fields", what), "fields", child, source)
        key = tuple((str(k), str(v)) for k, v in
                    ctx.mapping(child.get("key") or LocatedDict(), "key", child).items())
        children[str(name)] = ChildRecord(str(name), code, fields, key, child.line)
    return children


def _check_against_target(ctx: _Ctx, data: LocatedDict, columns: list[ColumnMapping],
                          target: Schema) -> None:
    cols_node = data["columns"]
    names = set(target.column_names)
    for cm in columns:
        if cm.column not in names:
            raise ctx.fail(cols_node, cm.column,
                           "column '{column}' is not in the target layout {target}",
                           "Columns of {target}: {known}.", column=cm.column, target=target.id,
                           known=", ".join(target.column_names))
        spec = target.column(cm.column)
        if cm.codes and spec.codes is not None:
            bad = sorted({v for v in cm.codes.mapping.values() if v and v not in spec.codes})
            if bad:
                raise LayoutError(
                    "code table maps to {codes}, which {target} does not allow for {column}",
                    {"codes": ", ".join(bad), "target": target.id, "column": cm.column},
                    file=cm.codes.path, hint="Allowed codes are listed in {table}.",
                    hint_params={"table": spec.code_table})
    mapped = {cm.column for cm in columns}
    missing = [c.name for c in target.columns if c.required and c.name not in mapped]
    if missing:
        raise ctx.fail(data, "columns", "required column(s) of {target} not mapped: {missing}",
                       "Map each required column from a field, the header or the record number.",
                       target=target.id, missing=", ".join(missing))


def load_mapping(ref: str | Path) -> Mapping:
    """Load and check a mapping by id or path, together with its target schema."""
    path = find_mapping(ref)
    ctx = _Ctx(path)
    data = _read_yaml(path)
    ctx.only_keys(data, ("mapping", "version", "title", "target", "source", "header", "trailer",
                         "fields", "records", "columns"), "a mapping")
    base = path.parent
    target = load_schema(str(ctx.require(data, "target", "the mapping")), relative_to=base)
    source = _load_source(ctx, ctx.mapping(ctx.require(data, "source", "the mapping"),
                                           "source", data), base)
    slots = _Slots(source.record_length) if source.delimited else None
    if slots is not None and data.get("header"):
        raise ctx.fail(data, "header", "a delimited source has no header record fields",
                       "Use source.header_line: true for a line of column names.")
    header = _load_fields(ctx, data.get("header") or LocatedDict(), "header", data, source)
    fields = _load_fields(ctx, ctx.require(data, "fields", "the mapping"), "fields", data, source,
                          slots)
    children = _load_children(ctx, data, source)
    if children and source.record_types:
        source = replace(source, record_types=replace(
            source.record_types, children=tuple((c.code, c.name) for c in children.values())))
    trailer = _load_trailer(ctx, data, source, fields, children, slots)
    if (header or trailer) and source.record_types is None:
        raise ctx.fail(data, "source", "header/trailer fields need source.record_type")
    if slots is not None:  # the synthetic row: record-type slot + every field's slot
        source = replace(source, record_length=slots.width)
    raw_columns = ctx.mapping(ctx.require(data, "columns", "the mapping"), "columns", data)
    known = {"fields": fields, "header": header, "children": children}
    columns = [_load_column_mapping(ctx, str(c), v, raw_columns, known, base)
               for c, v in raw_columns.items()]
    _check_against_target(ctx, data, columns, target)
    for child in children.values():
        if not any(cm.kind == "child" and cm.record == child.name and cm.aggregate != "count"
                   for cm in columns):
            raise ctx.fail(data["records"], child.name,
                           "no column takes the values of record type {record}",
                           "Map its fields with from: {record}.field (and where:), or its "
                           "records would be counted but their values lost.",
                           record=child.name)
    title = data.get("title") or {}
    mapping_id = str(ctx.require(data, "mapping", "the mapping"))
    return Mapping(mapping_id, int(data.get("version", 1)), str(title.get("ja", mapping_id)),
                   str(title.get("en", mapping_id)), target, source, header, trailer, fields,
                   tuple(columns), path, children)


def _load_trailer(ctx: _Ctx, data: LocatedDict, source: SourceSpec, fields: dict[str, FieldSpec],
                  children: dict[str, ChildRecord], slots: _Slots | None) -> TrailerSpec | None:
    if not data.get("trailer"):
        return None
    tnode = ctx.mapping(data["trailer"], "trailer", data)
    ctx.only_keys(tnode, ("count", "control_totals"), "trailer")
    count = (_load_field(ctx, "count", tnode["count"], tnode, source, slots)
             if tnode.get("count") else None)
    totals = _load_fields(ctx, tnode.get("control_totals") or LocatedDict(),
                          "control_totals", tnode, source, slots)
    for name in totals:
        record, _, child_field = name.partition(".")
        spec = (children[record].fields.get(child_field) if child_field and record in children
                else fields.get(name))
        if spec is None:
            raise ctx.fail(tnode, "control_totals",
                           "control total '{name}' names no data field", name=name)
        if spec.type not in NUMERIC_FIELD_TYPES:
            raise ctx.fail(tnode, "control_totals",
                           "control total '{name}' must sum a numeric field", name=name)
    return TrailerSpec(count, totals)
