"""`migrate run --engine dask`: the per-chunk work as tasks on a Dask distributed cluster.

The client (the process running `migrate run`) plans the record-aligned chunks, submits one task
per chunk with a bounded number in flight, and yields the outcomes in input order to the
pipeline, which checks keys across chunks, assembles the outputs and keeps the ledger exactly as
with the local engine. Each task writes its chunk's rows as output parts into the run's staging
folder (migrate.run.parts), so the client receives keys, problems and counts, not records: the
staging folder, like the input, must be on storage every worker sees at the same path.

A task runs `ChunkWorker.process` — the same function as the local process pool — with one
ChunkWorker per worker process, built on that process's first task of the run and kept under the run's token. Workers read their byte ranges of the input themselves,
so the input must be on storage every worker sees at the same path; the first task on each
worker checks that and says so plainly when it is not.

An input error in a task (a broken record, …) is returned as data, not raised inside Dask, so
the worker does not log it (it may describe personal data) and the client raises the very same
MigrateError, with its record number and byte offset, as the local engine would.

`distributed` is imported only here, only when the engine is used (extra `migrate[dask]`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import uuid
from collections import OrderedDict, deque
from collections.abc import Iterator
from dataclasses import dataclass, replace
from itertools import islice
from pathlib import Path
from typing import Any

from migrate import __version__
from migrate.errors import MigrateError, UsageError
from migrate.run.chunkwork import (
    ChunkContext,
    ChunkOutcome,
    ChunkWorker,
    StoredOutcome,
    guard_parent_death,
    received,
    to_send,
)

CONNECT_TIMEOUT = 20.0   # seconds to reach the scheduler given with --scheduler
WORKERS_TIMEOUT = 120.0  # seconds to wait for a first worker on that scheduler
TASKS_PER_THREAD = 2     # chunks in flight per worker thread: bounds memory, keeps workers busy
STATES_KEPT = 2          # runs whose ChunkWorker a worker process keeps (a long-lived cluster)


# ---------------------------------------------------------------------- on the workers


@dataclass(frozen=True)
class ChunkJob:
    """What every task of one run carries: the run's token, its context and what to check."""

    token: str
    context: ChunkContext
    file_size: int     # size of the input as the client sees it
    version: str       # migrate version of the client


@dataclass(frozen=True)
class ChunkFailed:
    """A task's MigrateError, returned as a value; the client raises it."""

    error: MigrateError


class _WorkerState:
    """One ChunkWorker per worker process and run; one chunk at a time through it."""

    def __init__(self, worker: ChunkWorker):
        self.worker = worker
        self.lock = threading.Lock()


_STATES: OrderedDict[str, _WorkerState] = OrderedDict()
_STATES_LOCK = threading.Lock()


def _worker_name() -> str:
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):  # called outside a Dask worker (tests)
        return socket.gethostname()


def check_job(job: ChunkJob) -> None:
    """Raise UsageError unless this process runs the client's migrate and sees its input."""
    worker = _worker_name()
    if job.version != __version__:
        raise UsageError("Dask worker {worker} runs migrate {found}, but this machine runs "
                         "{version}",
                         {"worker": worker, "found": __version__, "version": job.version},
                         hint="Install the same version of migrate on every Dask worker as on "
                              "the machine that runs migrate run.")
    path = job.context.input
    try:
        size = os.stat(path).st_size
        with open(path, "rb"):
            pass
    except OSError as error:
        raise UsageError("the input file {path} cannot be read on Dask worker {worker}: "
                         "{reason}",
                         {"path": path, "worker": worker, "reason": error.strerror or error},
                         hint="Every Dask worker reads its chunks of the input itself: put the "
                              "file on storage that all workers mount at the same path as this "
                              "machine (NFS, a cluster file system).") from None
    if size != job.file_size:
        raise UsageError("the input file {path} on Dask worker {worker} has {found} bytes, "
                         "not the {size} bytes this machine sees",
                         {"path": path, "worker": worker, "found": size, "size": job.file_size},
                         hint="Every Dask worker reads its chunks of the input itself: put the "
                              "file on storage that all workers mount at the same path as this "
                              "machine (NFS, a cluster file system).")


def _state(job: ChunkJob) -> _WorkerState:
    with _STATES_LOCK:
        state = _STATES.get(job.token)
        if state is None:
            check_job(job)
            state = _STATES[job.token] = _WorkerState(ChunkWorker(job.context))
            while len(_STATES) > STATES_KEPT:
                _STATES.popitem(last=False)
        return state


def process_chunk(job: ChunkJob, first_record: int, n: int, *where: int,
                  part: int | None = None) -> ChunkOutcome | StoredOutcome | ChunkFailed:
    """The Dask task: ChunkWorker.process on this worker's state for the run; the worker
    writes the chunk's output parts and its outcome to the shared staging folder itself, and
    sends back where the outcome is."""
    try:
        state = _state(job)
        with state.lock:
            return to_send(state.worker,
                           state.worker.process(first_record, n, *where, part=part))
    except MigrateError as error:
        return ChunkFailed(error)


def _parent_guard() -> Any:
    """A worker plugin that ties each worker process of a LocalCluster to this process: its
    workers end when `migrate run` dies, even by SIGKILL (see guard_parent_death). A class made
    here because `distributed` is imported only when the engine runs; Dask ships it by value."""
    from distributed import WorkerPlugin

    class ParentGuard(WorkerPlugin):
        name = "migrate-parent-guard"

        def setup(self, worker: Any) -> None:
            guard_parent_death()

    return ParentGuard()


def forget(token: str) -> None:
    """Drop a finished run's state from this worker process (run on every worker)."""
    with _STATES_LOCK:
        _STATES.pop(token, None)


# ---------------------------------------------------------------------- on the client


def _connect(address: str) -> Any:
    from distributed import Client
    from distributed.comm.addressing import parse_address, parse_host_port

    try:
        scheme, location = parse_address(address)
        if scheme in ("tcp", "tls"):  # a half-built Client stalls on a bad address; check first
            parse_host_port(location)
        client = Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, ValueError, TypeError) as error:
        raise UsageError("cannot reach the Dask scheduler at {address}: {reason}",
                         {"address": address, "reason": error},
                         hint="Check the address (tcp://HOST:PORT, port 8786 by default) and "
                              "that dask scheduler is running and reachable from this "
                              "machine; leave out --scheduler to start a local cluster.") from None
    try:
        client.wait_for_workers(1, timeout=WORKERS_TIMEOUT)
    except TimeoutError:
        client.close()
        raise UsageError("no Dask worker joined the scheduler at {address} within {seconds} "
                         "seconds", {"address": address, "seconds": int(WORKERS_TIMEOUT)},
                         hint="Start workers with dask worker {address} (or through "
                              "dask-jobqueue or the Dask Kubernetes operator) and run again.",
                         hint_params={"address": address}) from None
    return client


def dask_outcomes(context: ChunkContext, plan: list[tuple[int, tuple[int, ...]]],
                  file_size: int, *,
                  scheduler: str | None = None,
                  workers: int | None = None) -> Iterator[ChunkOutcome]:
    """Outcomes of the chunks of `plan` ((index, range) pairs), in input order, computed on
    a Dask cluster, whose workers write the chunks' output parts (the records stay there).

    Without `scheduler`, a LocalCluster of `workers` processes (default: all cores), one thread
    each, is started and closed at the end; with it, the client connects to that scheduler.
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise UsageError("--engine dask needs Dask, which is not installed",
                         hint="Install it with: pip install 'migrate[dask]'") from None

    given = context.input
    context = replace(context, input=Path(os.path.abspath(given)))  # workers have another cwd
    job = ChunkJob(uuid.uuid4().hex, context, file_size, __version__)
    cluster = None
    if scheduler is None:
        from migrate.run.options import default_workers

        n_workers = max(1, min(workers or default_workers(), len(plan)))
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=logging.ERROR)
        client = Client(cluster, set_as_default=False)
        client.register_plugin(_parent_guard())
    else:
        client = _connect(scheduler)
    window: deque = deque()
    try:
        threads = sum(client.nthreads().values())
        tasks = iter(plan)

        def submit(indexed: tuple[int, tuple[int, ...]]) -> Any:
            index, task = indexed
            return client.submit(process_chunk, job, *task, part=index, pure=False,
                                 key=f"migrate-chunk-{task[0]}-{job.token}")

        window.extend(submit(task) for task in
                      islice(tasks, max(2, TASKS_PER_THREAD * threads)))
        while window:
            outcome = window.popleft().result()
            if isinstance(outcome, ChunkFailed):
                error = outcome.error
                if error.file is not None and Path(error.file) == context.input:
                    error.file = given  # as the user wrote it, as the local engine says
                raise error
            task = next(tasks, None)
            if task is not None:
                window.append(submit(task))
            yield received(outcome)
    finally:
        if window:
            client.cancel(list(window))
        if cluster is None:
            with contextlib.suppress(Exception):  # best effort on a cluster we do not own
                client.run(forget, job.token)
        client.close()
        if cluster is not None:
            cluster.close()
