"""Reading one YAML file of a layout, mapping or plan, and reporting a problem in it at `file:line`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from migrate.errors import LayoutError, UsageError
from migrate.layouts.yamlpos import LocatedDict, LocatedList, load_yaml


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

def _as_values(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else (str(value),)

def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]
