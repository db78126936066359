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

    exit_code = 2

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        from migrate.i18n import format_error

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
