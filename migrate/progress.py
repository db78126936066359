"""A progress bar with records/s and ETA on a terminal; silent in CI and when piped."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)


@contextmanager
def progress_bar(console: Console, label: str) -> Iterator[Callable[[int, int], None] | None]:
    """Yield an update(done_bytes, total_bytes) callback, or None where no bar should show."""
    if not console.is_terminal or os.environ.get("CI"):
        yield None
        return
    with Progress(TextColumn(label), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                  TimeRemainingColumn(), console=console, transient=True) as progress:
        task = progress.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield update
