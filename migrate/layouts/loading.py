"""Reading one YAML file of a layout, mapping or plan, and reporting a problem in it at `file:line`.

A loader either stops at the first problem (`migrate run`: it must not start on a broken
mapping) or, given a list to collect them in (`migrate check`), notes each problem and goes on
with the next field, column or rule, so that every problem is reported at once.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from migrate.errors import LayoutError, MigrateError, UsageError
from migrate.layouts.shapes import Obj
from migrate.layouts.yamlpos import (
    MAX_YAML_BYTES,
    LocatedDict,
    LocatedList,
    NotUtf8Error,
    TooLargeError,
    YamlLimitError,
    load_yaml,
)

# Names that become file names or SQL identifiers (layouts → tables and output files, columns,
# mapping ids): lower-case ASCII, so they never need quoting, never contain '.', '/' or '"', and
# mean the same on every file system and database. A layout name leaves room for the longest
# derived name within PostgreSQL's 63 bytes: `<layout>__staging_pkey`.
IDENTIFIER = re.compile(r"[a-z][a-z0-9_]{0,62}")
LAYOUT_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")
LAYOUT_ID = re.compile(r"[a-z][a-z0-9_]{0,39}(/v[0-9]{1,4})?")
MAX_INTEGER = 1 << 30  # offsets, lengths, counts: a record is never a gigabyte
MAX_NUMBER = 1e18  # min/max bounds of a column
MAPPING_ID = re.compile(r"[a-z][a-z0-9_]{0,62}(/[a-z][a-z0-9_]{0,62}){0,2}")


class _Ctx:
    """Location context for errors while reading one YAML file; with `problems`, the list
    the problems are collected in instead of stopping at the first."""

    def __init__(self, path: Path, problems: list[MigrateError] | None = None):
        self.path = path
        self.problems = problems

    def fail(self, node: Any, at: str | None, message: str, hint: str | None = None, /,
             **params: Any) -> LayoutError:
        """The error at `node` (the line of its key `at` when given); `params` fill the
        message, so they may use any name — `key` included."""
        line, col = _position(node, at)
        return LayoutError(message, params, file=self.path, line=line, hint=hint,
                           hint_params=params, col=col)

    def report(self, error: MigrateError) -> None:
        """A problem that need not stop the loading: raised when stopping at the first,
        noted when collecting."""
        if self.problems is None:
            raise error
        self.problems.append(error)

    @contextmanager
    def attempt(self, node: Any, at: str | None = None, rule: str | None = None
                ) -> Iterator[None]:
        """One item (a field, a column, a rule…): when collecting, a problem in it is noted
        (at `node`/`at` if it has no place of its own) and the item left out, so the items
        after it are still checked."""
        try:
            yield
        except MigrateError as error:
            if self.problems is None:
                raise
            if error.file is None or (error.line is None and error.file == self.path):
                error.file = self.path
                error.line, error.col = _position(node, at)
                if rule:  # a problem of this item itself, not of a file it names
                    error.rule = rule
            self.problems.append(error)

    def mapping(self, node: Any, key: str, parent: Any) -> LocatedDict:
        if not isinstance(node, LocatedDict):
            raise self.fail(parent, key, "'{key}' must be a mapping of names to values", key=key)
        return node

    def only_keys(self, node: LocatedDict, allowed: Obj | tuple[str, ...], what: str) -> None:
        """Refuse keys `allowed` does not declare (shapes.py: the JSON Schema is generated
        from the same declarations), suggesting the nearest known key."""
        names = allowed.names if isinstance(allowed, Obj) else allowed
        if isinstance(allowed, Obj) and allowed.open:
            return
        for key in node:
            if key in names:
                continue
            near = difflib.get_close_matches(str(key), names, n=1, cutoff=0.6)
            error = (self.fail(node, key, "unknown key '{key}' in {what}",
                               "Did you mean '{guess}'? Allowed keys: {allowed}.", key=key,
                               what=what, guess=near[0], allowed=", ".join(names)) if near else
                     self.fail(node, key, "unknown key '{key}' in {what}",
                               "Allowed keys: {allowed}.", key=key, what=what,
                               allowed=", ".join(names)))
            error.rule = "unknown-key"
            self.report(error)

    def require(self, node: LocatedDict, key: str, what: str) -> Any:
        if key not in node or node[key] is None:
            raise self.fail(node, None, "'{key}' is missing in {what}", key=key, what=what)
        return node[key]

    def identifier(self, node: Any, at: str | None, value: Any, what: str,
                   pattern: re.Pattern[str] = IDENTIFIER) -> str:
        """`value` as a name that may become a file name or an SQL identifier; else the error
        at `node`/`at`."""
        name = str(value)
        if not isinstance(value, str) or not pattern.fullmatch(name):
            hint = ("Names of layouts, tables and columns become file names and SQL "
                    "identifiers: use lower-case ASCII letters, digits and _, starting with a "
                    "letter (at most 63 characters; a layout name at most 40).")
            if pattern is LAYOUT_ID:
                hint = ("A layout id is a name and a version, such as juki/v1: lower-case "
                        "ASCII letters, digits and _, starting with a letter, at most 40 "
                        "characters.")
            elif pattern is MAPPING_ID:
                hint = ("A mapping id is one to three names separated by /, such as "
                        "vendor_a/juki: lower-case ASCII letters, digits and _, starting with a "
                        "letter.")
            raise self.fail(node, at, "{what} '{name}' is not a safe name", hint,
                            what=what, name=name)
        return name

    def names(self, node: LocatedDict, key: str) -> tuple[str, ...]:
        """A list of names or codes (a single one is a list of one)."""
        value = node.get(key)
        if value is None:
            return ()
        items = value if isinstance(value, list) else [value]
        if any(not isinstance(item, str | int) or isinstance(item, bool) for item in items):
            raise self.fail(node, key, "'{key}' must be a value or a list of values",
                            key=key)
        return tuple(str(item) for item in items)

    def titles(self, node: LocatedDict, default: str) -> tuple[str, str]:
        """`title: {ja: …, en: …}` (either may be left out)."""
        title = node.get("title") or LocatedDict()
        if not isinstance(title, dict):
            raise self.fail(node, "title", "'title' must map ja and en to a title")
        return str(title.get("ja", default)), str(title.get("en", default))

    def number(self, node: LocatedDict, key: str, what: str, *, whole: bool = False,
               minimum: float | None = None) -> Any:
        """An optional number (None when left out)."""
        value = node.get(key)
        if value is None:
            return None
        if whole:
            return self.integer(node, key, what, int(minimum or 0))
        if not isinstance(value, int | float) or isinstance(value, bool) or value != value \
                or abs(value) > MAX_NUMBER:
            raise self.fail(node, key, "'{key}' in {what} must be a number", key=key,
                            what=what)
        return value

    def integer(self, node: LocatedDict, key: str, what: str, minimum: int = 0) -> int:
        value = self.require(node, key, what)
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            raise self.fail(node, key, "'{key}' in {what} must be a whole number ≥ {minimum}",
                            key=key, what=what, minimum=minimum)
        if value > MAX_INTEGER:
            raise self.fail(node, key, "'{key}' in {what} is larger than {maximum}",
                            key=key, what=what, maximum=f"{MAX_INTEGER:,}")
        return value


def _position(node: Any, at: str | None) -> tuple[int | None, int | None]:
    """Line and column of `node` (of its key `at` when given)."""
    if isinstance(node, LocatedDict):
        return (node.line_of(at), node.col_of(at)) if at else (node.line, node.col)
    if isinstance(node, LocatedList):
        return node.line, node.col
    return None, None


def _read_yaml(path: Path, ctx: _Ctx | None = None) -> LocatedDict:
    """The top-level mapping of a YAML file; with a collecting `ctx`, each repeated key is
    noted as a problem (its first value kept) instead of refusing the file."""
    duplicates: list[tuple[str, int, int]] | None = (
        [] if ctx is not None and ctx.problems is not None else None)
    try:
        data = load_yaml(path, duplicates)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        hint = "Check indentation and quoting around this line."
        if isinstance(exc, YamlLimitError):
            hint = ("Write the values out: a layout needs neither deep nesting nor aliases "
                    "(*name) that expand to that much.")
        raise LayoutError("the YAML cannot be parsed: {problem}",
                          {"problem": getattr(exc, "problem", None) or type(exc).__name__},
                          file=path, line=mark.line + 1 if mark else None, hint=hint,
                          col=mark.column + 1 if mark else None, rule="yaml-syntax") from None
    except NotUtf8Error as exc:
        raise LayoutError("the file is not UTF-8 text; it looks like {encoding}",
                          {"encoding": exc.encoding or "binary data"}, file=path, line=exc.line,
                          hint="Save it as UTF-8, e.g. iconv -f {source} -t UTF-8.",
                          hint_params={"source": (exc.encoding or "CP932").upper()}) from None
    except TooLargeError as exc:
        if exc.size is None:
            raise LayoutError("the file is a device or a pipe, not a YAML file", file=path,
                              hint="Give the mapping, schema or plan YAML file itself.") from None
        raise LayoutError("the file is {size} bytes, more than the {limit} a YAML file may have",
                          {"size": f"{exc.size:,}", "limit": f"{MAX_YAML_BYTES:,}"}, file=path,
                          hint="Give the mapping, schema or plan YAML file itself.") from None
    except OSError as exc:
        raise UsageError("cannot read {path}: {reason}", {"path": path, "reason": exc.strerror},
                         hint="Check the path and its permissions.") from None
    if not isinstance(data, LocatedDict):
        raise LayoutError("the file must hold a YAML mapping at the top level", file=path, line=1,
                          col=1, rule="yaml-syntax")
    for key, line, col in duplicates or ():
        assert ctx is not None
        ctx.report(LayoutError("the key '{key}' appears twice", {"key": key}, file=path,
                               line=line, col=col, rule="duplicate-key",
                               hint="The second value would silently replace the first; keep "
                                    "one."))
    return data


def _as_values(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else (str(value),)

def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]
