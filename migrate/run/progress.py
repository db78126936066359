"""Live progress on a terminal (rich): one line per phase of a run — group checks, conversion
(a bar of data records with records/s and ETA), writing the outputs and loading the database,
verifying the database, the report — and, for a plan, which file of how many. Silent when
the output is not a terminal or under CI.

The pipeline reports through two calls: `phase(label, total)` when a phase starts, and
`progress(done, total)` (the callable itself) as data records are converted — several times a
second, also inside a long chunk: workers count records as they go (`LiveCount`). Counts are of
data records (child records such as income records included, header and trailer not), so the
bar ends on the figure of the summary.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from migrate.i18n import t

REFRESHES_PER_SECOND = 4  # the line is redrawn (elapsed time, spinner) even between chunks


class RecordsPerSecond(ProgressColumn):
    """Speed in records per second (rich's own speed columns count bytes)."""

    def render(self, task: Task) -> Text:
        if not task.fields.get("counted"):
            return Text("")
        speed = task.finished_speed or task.speed
        return Text(t("{rate} records/s", rate=f"{speed:,.0f}") if speed else "")


class Remaining(TimeRemainingColumn):
    """ETA only where there is a total (a bar), nothing for a spinner."""

    def render(self, task: Task) -> Text:
        return super().render(task) if task.fields.get("counted") else Text("")


class Counts(MofNCompleteColumn):
    def render(self, task: Task) -> Text:
        if not task.fields.get("counted") or task.total is None:
            return Text("")
        return Text(f"{int(task.completed):,}/{int(task.total):,}", style="progress.download")


class LocalCounter:
    """The counter of chunks converted in this process: a value and a lock, as
    multiprocessing.Value has, without its named semaphore (nor the resource tracker that a
    named semaphore starts)."""

    def __init__(self) -> None:
        self.value = 0
        self._lock = threading.Lock()

    def get_lock(self) -> threading.Lock:
        return self._lock


class LiveCount:
    """The data records converted so far, for the conversion bar: workers add to the
    `counter` as they go through a chunk (migrate.run.chunkwork.Converted), the caller
    `settle`s the count of the outcomes it has received (an engine whose workers cannot share
    memory, Dask, moves the bar chunk by chunk through that alone). While `shown`, the count
    goes to the display at each settled chunk and REFRESHES_PER_SECOND times a second in
    between; it never goes back."""

    def __init__(self) -> None:
        self.local = LocalCounter()
        self.shared: Any = None  # a process pool's counter, from `counter(shared=True)`
        self.settled = 0
        self._report: Callable[[int, int], None] | None = None
        self._total = 0
        self._shown = -1
        self._lock = threading.Lock()

    def counter(self, shared: bool = False) -> Any:
        """What workers add to: in this process a plain counter; for a process pool one in
        shared memory (multiprocessing.Value), made on first use and held until `release` —
        its named semaphore keeps multiprocessing's resource tracker busy until then."""
        if not shared:
            return self.local
        if self.shared is None:
            self.shared = multiprocessing.get_context("spawn").Value("q", self.local.value)
        return self.shared

    def release(self) -> None:
        """The workers are done: the shared counter's figure is kept, the counter (and its
        semaphore) let go."""
        if self.shared is not None:
            self.local.value = max(self.local.value, int(self.shared.value))
            self.shared = None

    @property
    def counted(self) -> int:
        """The records the workers counted."""
        shared = self.shared
        return max(self.local.value, int(shared.value) if shared is not None else 0)

    @property
    def value(self) -> int:
        return max(self.counted, self.settled)

    def settle(self, done: int) -> None:
        self.settled = done
        self._show()

    def _show(self) -> None:
        with self._lock:
            done = self.value
            if self._report is not None and done > self._shown:
                self._report(done, max(self._total, done))
                self._shown = done

    @contextmanager
    def shown(self, report: Callable[[int, int], None] | None, total: int,
              wait: Callable[[float], bool] | None = None) -> Iterator[None]:
        """Show the count while the body runs (`wait` is the pause between two looks,
        threading.Event.wait unless a test brings its own clock)."""
        if report is None:
            yield
            return
        self._report, self._total = report, total
        stop = threading.Event()
        pause = wait or stop.wait

        def poll() -> None:
            while not pause(1 / REFRESHES_PER_SECOND) and not stop.is_set():
                self._show()

        poller = threading.Thread(target=poll, name="migrate-progress", daemon=True)
        poller.start()
        try:
            yield
        finally:
            stop.set()
            poller.join()
            self._show()
            self._report = None


class RunProgress:
    """The progress of one run (or one file of a plan) on a rich Progress display."""

    def __init__(self, progress: Progress, prefix: str = ""):
        self.progress = progress
        self.prefix = prefix
        self.task: TaskID | None = None

    def phase(self, label: str, total: int | None = None) -> None:
        """A new phase starts: the previous one is shown as done."""
        self._finish()
        self.task = self.progress.add_task(f"{self.prefix}{label}", total=total,
                                           counted=total is not None)

    def __call__(self, done: int, total: int | None) -> None:
        if self.task is None:
            self.phase(t("Converting"), total)
        assert self.task is not None
        self.progress.update(self.task, completed=done, total=total, counted=True)

    def _finish(self) -> None:
        if self.task is not None:
            task = next((x for x in self.progress.tasks if x.id == self.task), None)
            if task is not None and task.total is None:
                self.progress.update(self.task, total=1, completed=1)
            elif task is not None:
                self.progress.update(self.task, completed=task.total)
            self.progress.stop_task(self.task)
            self.task = None

    def close(self) -> None:
        self._finish()


def showing(console: Console) -> bool:
    """Whether progress is shown at all: a terminal, not CI."""
    return console.is_terminal and not os.environ.get("CI")


def _display(console: Console) -> Progress:
    return Progress(SpinnerColumn(finished_text="✔"), TextColumn("{task.description}"),
                    BarColumn(), Counts(), RecordsPerSecond(), Remaining(),
                    TimeElapsedColumn(), console=console, transient=True,
                    refresh_per_second=REFRESHES_PER_SECOND)


@contextmanager
def progress_bar(console: Console, label: str = "") -> Iterator[RunProgress | None]:
    """Yield the progress of one run, or None where nothing should show. `label` prefixes
    every phase (a plan's "2/5 zeimu/v1: ")."""
    if not showing(console):
        yield None
        return
    with _display(console) as display:
        run = RunProgress(display, label)
        try:
            yield run
        finally:
            run.close()


class PlanProgress:
    """One display for all files of a plan: each file's phases prefixed by "i/n layout"."""

    def __init__(self, console: Console, files: int):
        self.files = files
        self.count = 0
        self.display = _display(console) if showing(console) else None
        self.current: RunProgress | None = None

    def __enter__(self) -> PlanProgress:
        if self.display is not None:
            self.display.__enter__()
        return self

    def next_file(self, layout: str) -> RunProgress | None:
        self.done()
        self.count += 1
        if self.display is None:
            return None
        self.current = RunProgress(self.display, t("{n}/{files} {layout}: ", n=self.count,
                                                   files=self.files, layout=layout))
        return self.current

    def done(self) -> None:
        """The file is done: its phases leave the screen, so a plan's display stays a few
        lines high whatever the number of files."""
        if self.current is not None:
            self.current.close()
            self.current = None
        if self.display is not None:
            for task in list(self.display.tasks):
                self.display.remove_task(task.id)

    def __exit__(self, *exc: object) -> None:
        self.done()
        if self.display is not None:
            self.display.__exit__(None, None, None)
