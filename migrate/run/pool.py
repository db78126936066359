"""The local process pool of the per-chunk work (migrate.run.chunkwork), for one run.

Its start and its end cost about as much as a chunk on two cores (each spawned worker imports
polars, pyarrow and migrate, and tears them down again), so neither waits on the run:

* the workers are spawned when the run is set up, not when the first chunk is due, so that
  their imports overlap the main process's own set-up (journal, sinks, the group checks' plan);
* once the last outcome has been received the pool is shut down in a thread of its own, while
  the main process commits the outputs and writes the reconciliation and the report; `join`
  waits for it, so no worker outlives the run.
"""

from __future__ import annotations

import itertools
import multiprocessing
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from migrate.run.chunkwork import ChunkContext, ChunkOutcome, init_worker, process_in_worker


class WorkerPool:
    """`workers` spawned processes, each holding a ChunkWorker built from `context`
    (`converted`: the run's shared progress counter, see migrate.run.chunkwork.Converted)."""

    def __init__(self, context: ChunkContext, converted: Any, workers: int):
        self.workers = workers
        self.executor: ProcessPoolExecutor | None = ProcessPoolExecutor(
            workers, mp_context=multiprocessing.get_context("spawn"),
            initializer=init_worker, initargs=(context, converted))
        # the executor spawns all its processes at its first task: start them now
        self.executor.submit(int)
        self._closing: threading.Thread | None = None

    def map(self, function: Callable[..., Any], *iterables: Iterable[Any]) -> Iterator[Any]:
        assert self.executor is not None, "the pool was closed"
        return self.executor.map(function, *iterables)

    def outcomes(self, todo: list[tuple[int, tuple[int, ...]]]) -> Iterator[ChunkOutcome]:
        """The outcomes of (index, task) in order, the workers ahead by a bounded window of
        two chunks each; the pool starts closing as soon as the last one is received."""
        executor = self.executor
        assert executor is not None, "the pool was closed"
        tasks = iter(todo)
        window: deque[Future[ChunkOutcome]] = deque(
            executor.submit(process_in_worker, *task, part=index)
            for index, task in itertools.islice(tasks, self.workers * 2))
        while window:
            outcome = window.popleft().result()
            following = next(tasks, None)
            if following is not None:
                index, task = following
                window.append(executor.submit(process_in_worker, *task, part=index))
            if not window:
                self.close_in_background()
            yield outcome

    def close_in_background(self) -> None:
        """Shut the pool down in a thread (the workers end and are reaped there)."""
        executor, self.executor = self.executor, None
        if executor is not None:
            self._closing = threading.Thread(target=executor.shutdown, name="pool-close",
                                             daemon=True)
            self._closing.start()

    def close(self) -> None:
        """Shut the pool down now, cancelling what has not started, and wait for it."""
        executor, self.executor = self.executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
        self.join()

    def join(self) -> None:
        """Wait until the pool has ended (every worker process reaped)."""
        if self._closing is not None:
            self._closing.join()
            self._closing = None
