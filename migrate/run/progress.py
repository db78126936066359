"""A progress bar with records/s and ETA on a terminal; silent in CI and when piped."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from migrate.i18n import t


class RecordsPerSecond(ProgressColumn):
    """Speed in records per second (rich's own speed columns count bytes)."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(t("{rate} records/s", rate=f"{speed:,.0f}") if speed else "")


@contextmanager
def progress_bar(console: Console, label: str) -> Iterator[Callable[[int, int], None] | None]:
    """Yield an update(done_records, total_records) callback, or None where no bar should show."""
    if not console.is_terminal or os.environ.get("CI"):
        yield None
        return
    with Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), RecordsPerSecond(),
                  TimeRemainingColumn(), console=console, transient=True) as progress:
        task = progress.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield update
