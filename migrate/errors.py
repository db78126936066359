"""Every error caused by input or by the user, in one tree.

MigrateError
├── UsageError            bad command line, missing file, unknown mapping id        → exit 2
├── LayoutError           a mapping / schema / code table is wrong (file:line)      → exit 2
├── InputFormatError      the input file does not fit its mapping (record length…) → exit 2
└── ReconciliationError   an invariant broke after the run                          → exit 1

Each error carries a message id from the catalogue (migrate/i18n/locale), its parameters, and where
it happened (file, line, record number, byte offset, field) plus a fix hint. The CLI is the only
place that turns them into text and exit codes; nothing here prints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from migrate.i18n import language, t


@dataclass
class MigrateError(Exception):
    """Base class: a message id + parameters + location + hint id."""

    message: str
    params: dict[str, Any] = field(default_factory=dict)
    file: Path | str | None = None
    line: int | None = None
    record: int | None = None
    offset: int | None = None
    field_name: str | None = None
    hint: str | None = None
    hint_params: dict[str, Any] = field(default_factory=dict)
    col: int | None = None  # the column of `line` (1-based), for `migrate check`
    rule: str | None = None  # the `migrate check` rule it breaks, when the loader knows it

    exit_code = 2

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        return format_error(self)


class UsageError(MigrateError):
    """The command line names something that does not exist or cannot be used."""


class LayoutError(MigrateError):
    """A mapping, schema, code table or gaiji table is malformed."""


class InputFormatError(MigrateError):
    """The input file's framing does not match its mapping; nothing was written."""


class ReconciliationError(MigrateError):
    """Counts, totals or sinks disagree after a run."""

    exit_code = 1


def format_error(error: MigrateError, lang: str | None = None) -> str:
    """One paragraph: where, what, and how to fix it."""
    where = []
    if error.file is not None:
        where.append(f"{error.file}:{error.line}" if error.line else str(error.file))
    if error.record is not None:
        where.append(t("record {record}", lang, record=error.record))
    if error.offset is not None:
        where.append(t("byte offset {offset}", lang, offset=error.offset))
    if error.field_name:
        where.append(t("field {field}", lang, field=error.field_name))
    text = t(error.message, lang, **error.params)
    if where:
        text = f"{', '.join(where)}: {text}"
    if error.hint:
        if not text.endswith((".", "。", "!", "?", "！", "？")):
            text += "。" if (lang or language()) == "ja" else "."
        text += " " + t(error.hint, lang, **error.hint_params)
    return text
