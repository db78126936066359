"""One finding of `migrate check`: where (path, line, column), how bad, which rule, and the
message — a catalogue id and its parameters, so it reads in Japanese under LANG=ja."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from migrate.errors import MigrateError
from migrate.i18n import t

# Rules whose findings do not fail a check (unless --strict): layouts share or skip bytes on
# purpose, a plan's data often lives outside the mapping repository, and a standard code no
# vendor code reaches may simply never occur.
WARNING_RULES = frozenset({"field-overlap", "field-gap", "record-length", "code-unreached",
                           "plan-input-missing"})

# Loader messages that name a rule of their own (the loaders set most rules themselves).
_RULE_OF_MESSAGE = {
    "{what} '{name}' is not a safe name": "sql-unsafe-name",
    "rule refers to unknown column '{col}'": "schema-reference",
    "group check {name} refers to unknown column '{col}'": "schema-reference",
    "primary key column '{key}' is not a column": "schema-reference",
    "column {column} takes unknown field '{name}'": "unknown-field",
    "column {column} takes unknown header field '{name}'": "unknown-field",
    "column {column} takes unknown field '{name}' of record type {record}": "unknown-field",
    "'where' of column {column} names unknown field '{name}' of record type {record}":
        "unknown-field",
    "control total '{name}' names no data field": "unknown-field",
    "aggregate sum needs a numeric field; {name} is {type}": "transform-type",
    "control total '{name}' must sum a numeric field": "transform-type",
    "unknown dtype '{dtype}'": "unknown-type",
    "unknown check '{check}'": "unknown-type",
    "the YAML cannot be parsed: {problem}": "yaml-syntax",
    "field {name} (bytes {start}–{end}) reaches past the {size}-byte record":
        "field-past-record",
    "the file is not UTF-8 text; it looks like {encoding}": "yaml-syntax",
}


@dataclass(frozen=True)
class Problem:
    """A finding at path:line:col (1-based; 1 when the place is the whole file)."""

    path: str
    line: int
    col: int
    severity: str  # error | warning
    rule: str
    message: str
    params: dict[str, Any] = field(default_factory=dict)
    hint: str | None = None
    hint_params: dict[str, Any] = field(default_factory=dict)

    def text(self, lang: str | None = None) -> str:
        return t(self.message, lang, **self.params)

    def hint_text(self, lang: str | None = None) -> str:
        return t(self.hint, lang, **self.hint_params) if self.hint else ""

    def severity_word(self, lang: str | None = None) -> str:
        return t("error", lang) if self.severity == "error" else t("warning", lang)

    def line_text(self, lang: str | None = None) -> str:
        """`path:line:col: error|warning: message [rule-id]`."""
        return (f"{self.path}:{self.line}:{self.col}: {self.severity_word(lang)}: "
                f"{self.text(lang)} [{self.rule}]")

    @property
    def key(self) -> tuple[Any, ...]:
        return (self.path, self.line, self.col, self.rule, self.message,
                tuple(sorted((k, str(v)) for k, v in self.params.items())))


def from_error(error: MigrateError, fallback: Path | None = None) -> Problem:
    """The loaders' error as a finding; its rule from the error, else from its message."""
    rule = error.rule or _RULE_OF_MESSAGE.get(error.message, "layout")
    return Problem(
        path=display_path(Path(error.file) if error.file is not None else fallback),
        line=error.line or 1, col=error.col or 1,
        severity="warning" if rule in WARNING_RULES else "error", rule=rule,
        message=error.message, params=dict(error.params), hint=error.hint,
        hint_params=dict(error.hint_params))


def display_path(path: Path | None) -> str:
    """A path as the user gave it: relative to the working folder when inside it."""
    if path is None:
        return "-"
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
