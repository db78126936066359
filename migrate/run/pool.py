"""The local process pool of the per-chunk work (migrate.run.chunkwork), for one run.

Its start and its end cost about as much as a chunk on two cores (each spawned worker imports
polars, pyarrow and migrate, and tears them down again), so neither waits on the run:

* the workers are spawned when the run is set up, not when the first chunk is due, so that
  their imports overlap the main process's own set-up (journal, sinks, the group checks' plan);
* the main process converts chunks too, whenever it would otherwise wait for one, so a run
  spawns one process fewer than its --workers;
* once the last outcome has been received the pool is shut down in a thread of its own, while
  the main process commits the outputs and writes the reconciliation and the report; `join`
  waits for it, so no worker outlives the run.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

import polars as pl

from migrate.layouts import Mapping
from migrate.run.chunkwork import (
    ChunkContext,
    ChunkOutcome,
    ChunkWorker,
    group_partials_in_worker,
    init_worker,
    process_in_worker,
    received,
)
from migrate.validate.groupcheck import GroupPass


class WorkerPool:
    """`processes` spawned processes, each holding a ChunkWorker built from `context`
    (`converted`: the run's shared progress counter, see migrate.run.chunkwork.Converted).

    The process that runs the pool is a worker too: whenever the result it needs next is not
    ready, it converts the next chunk itself rather than wait (`local`), so `--workers 2` is
    this process and one spawned worker, not two workers beside an idle third process (on two
    cores that saves a worker's start, its imports and the pickling of half of the outcomes)."""

    def __init__(self, context: ChunkContext, converted: Any, processes: int):
        self.processes = processes
        self.executor: ProcessPoolExecutor | None = ProcessPoolExecutor(
            processes, mp_context=multiprocessing.get_context("spawn"),
            initializer=init_worker, initargs=(context, converted))
        # the executor spawns all its processes at its first task: start them now
        self.executor.submit(int)
        self._closing: threading.Thread | None = None

    def ordered(self, tasks: list[tuple[int, tuple[int, ...]]],
                remote: Callable[..., Any], local: Callable[[int, tuple[int, ...]], Any] | None,
                *, last: bool = False) -> Iterator[Any]:
        """The results of (index, task) in order: `remote(*task, part=index)` in the pool, a
        task or two queued behind each process, or `local(index, task)` here while the next
        result is not ready (at most that many results ahead). With `last` (no task follows),
        the pool starts closing as soon as the last result is received."""
        executor = self.executor
        assert executor is not None, "the pool was closed"
        ahead = self.processes + 1
        waiting = deque(tasks)
        running: dict[int, Future[Any]] = {}
        ready: dict[int, Any] = {}
        for index, _ in tasks:
            while index not in ready:
                while waiting and len(running) < ahead:
                    i, task = waiting.popleft()
                    running[i] = executor.submit(remote, *task, part=i)
                future = running.get(index)
                if future is None or future.done() or local is None or not waiting \
                        or len(ready) >= ahead:
                    assert future is not None
                    ready[index] = future.result()
                    del running[index]
                else:
                    i, task = waiting.popleft()
                    ready[i] = local(i, task)
            if last and not waiting and not running:
                self.close_in_background()
            yield ready.pop(index)

    def outcomes(self, todo: list[tuple[int, tuple[int, ...]]],
                 local: Callable[[], ChunkWorker]) -> Iterator[ChunkOutcome]:
        """The chunk outcomes of (index, task) in input order, the last work of the pool
        (`local`: makes this process's own ChunkWorker, the first time it is needed)."""
        worker: list[ChunkWorker] = []

        def here(index: int, task: tuple[int, ...]) -> ChunkOutcome:
            if not worker:
                worker.append(local())
            return worker[0].process(*task, part=index)

        for result in self.ordered(todo, process_in_worker, here, last=True):
            yield received(result)

    def group_partials(self, plan: list[tuple[int, ...]], mapping: Mapping,
                       header: dict[str, Any], reader: Any) -> Iterator[list[pl.DataFrame]]:
        """The group checks' first pass over the chunks of `plan`, in order (migrate.validate
        .groupcheck; `reader` reads the chunks this process takes)."""
        work: list[GroupPass] = []

        def here(index: int, task: tuple[int, ...]) -> list[pl.DataFrame]:
            if not work:
                work.append(GroupPass(mapping, header))
            return work[0].partials(reader.read_chunk(*task))

        return self.ordered(list(enumerate(plan)), _group_task, here)

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


def _group_task(*task: int, part: int) -> Any:
    """Pool task of the group checks' first pass (`part` unused: the results come in order)."""
    return group_partials_in_worker(*task)
