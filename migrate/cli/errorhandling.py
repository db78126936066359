"""Turning a MigrateError (or a failing machine) into a one-paragraph message and an exit code:
shared by every command module of the CLI, so that a user never sees a traceback."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console

from migrate.errors import MigrateError, UsageError, format_error
from migrate.i18n import t

stderr = Console(stderr=True)


def handles_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn MigrateError into a one-paragraph message and its exit code; never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except MigrateError as error:
            stderr.print(f"[bold red]{t('error')}:[/bold red] {format_error(error)}",
                         highlight=False, soft_wrap=True)
            sys.exit(error.exit_code)
        except KeyboardInterrupt:
            stderr.print(t("Interrupted; no output was saved."))
            sys.exit(130)
        except Exception as error:  # a bug, not bad input — unless the environment failed
            if os.environ.get("MIGRATE_DEBUG"):
                raise
            translated = _environment_error(error)
            if translated is not None:
                stderr.print(f"[bold red]{t('error')}:[/bold red] {format_error(translated)}",
                             highlight=False, soft_wrap=True)
                sys.exit(translated.exit_code)
            # The exception's own text is not shown: it may quote input values (a resident's
            # data); MIGRATE_DEBUG=1 shows it to whoever asks for it.
            stderr.print(f"[bold red]{t('internal error')}:[/bold red] "
                         + t("{kind} at {where}: a bug in migrate, not a problem of the input. "
                             "Run again with MIGRATE_DEBUG=1 to see the details (they may show "
                             "values of the input) and report them.",
                             kind=type(error).__name__, where=_bug_location(error)),
                         highlight=False, soft_wrap=True)
            sys.exit(3)

    return wrapper


def _bug_location(error: BaseException) -> str:
    """file:line of the innermost frame of migrate's own code in the traceback."""
    import traceback

    frames = traceback.extract_tb(error.__traceback__)
    package = Path(__file__).resolve().parent.parent  # the migrate package
    ours = [f for f in frames if Path(f.filename).resolve().is_relative_to(package)] or frames
    if not ours:
        return "?"
    frame = ours[-1]
    name = Path(frame.filename)
    shown = name.resolve().relative_to(package.parent) if name.resolve().is_relative_to(
        package.parent) else name.name
    return f"{shown}:{frame.lineno}"


def _environment_error(error: BaseException) -> MigrateError | None:
    """An exception that is about the machine, not a bug: a database that is full, read-only,
    locked or unreachable (its driver's words kept), or memory that ran out."""
    if isinstance(error, MemoryError):
        return UsageError("the computer ran out of memory",
                          hint="Run again with a smaller --chunk-mb or fewer --workers, or "
                               "close other programs.")
    if type(error).__module__.startswith(("sqlalchemy", "adbc_driver", "sqlite3", "psycopg")):
        from migrate.sinks.sql import environment_error

        return environment_error(error)
    return None
