"""The per-chunk work — read, decode, map, validate — as a pure function of (chunk range, context).

It runs in the main process, in a local process pool, or on a cluster worker: the result depends
only on the chunk, never on which process ran it or in what order, so outputs are byte-identical
whatever the parallelism. Key uniqueness across chunks, writing and counting stay with the caller,
which consumes outcomes in input order.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import pickle
import select
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

from migrate.i18n import t
from migrate.layouts import Mapping
from migrate.problems import concat_problems, empty_problems, problems_frame
from migrate.read import open_reader
from migrate.read.fixed import CHILD, DATA, RecordChunk, kind_names
from migrate.run.allocator import keep_freed_buffers
from migrate.run.parts import (
    ChunkParts,
    PartFile,
    part_name,
    settle_columns,
    write_part,
    write_parts,
)
from migrate.transform.framing import ChunkFraming, chunk_framing
from migrate.transform.mapper import OFFSET_COL, RECORD_COL, ChunkMapper, field_offsets


@dataclass(frozen=True)
class ChunkContext:
    """Everything a worker needs, picklable: the mapping, the input and its header values."""

    mapping: Mapping
    input: Path
    chunk_bytes: int
    header: dict[str, Any]
    lookup_dir: Path | None = None  # the tables of lookup columns, written by the first pass
    # where workers write each chunk's output parts (migrate.run.parts); None: the candidate
    # rows travel back whole in the outcome
    parts_dir: Path | None = None


@dataclass
class ChunkOutcome:
    """What one chunk produced; `candidates` still need the cross-chunk key check."""

    first_record: int
    candidates: pl.DataFrame      # rows without problems, schema columns + __record/__offset
    errors: pl.DataFrame          # problem rows that reject their record
    warnings: pl.DataFrame        # problem rows of values kept
    kinds: Counter                # records by kind name
    data_read: int                # data records (incl. unknown-type records)
    rejected_records: pl.Series   # record numbers rejected in this chunk (before key check)
    control_values: dict[str, pl.DataFrame]  # field → (record, value) of every record
    groups: pl.DataFrame | None = None  # multi-record: (record, parent, offset) of each record
    rejected_keys: pl.DataFrame | None = None  # primary key + __record of the rejected rows
    defaults: dict[str, int] | None = None  # column → records given the mapping's default
    gaiji: dict[str, int] | None = None  # 外字 code → times replaced through the table
    parts: ChunkParts | None = None  # the chunk's written parts; candidates then hold only
                                     # the settle columns (migrate.run.parts)
    records: int = 0              # records in the chunk, of every kind
    framing: ChunkFraming | None = None  # its header, trailer, end and ignored records
    figure_values: dict[str, pl.DataFrame] | None = None  # trailer figure → (record, value)
    # the outcome's own pickle in the parts folder, written by the worker (the journal's
    # file: see migrate.run.journal); not part of the pickle itself
    stored: PartFile | None = None

    def __getstate__(self) -> dict[str, Any]:
        """Frames travel between processes as Arrow tables (pyarrow pickles their buffers as
        they are): polars' own pickling, through its serialize format, took twice as long."""
        return {name: None if name == "stored" else _as_arrow(value)
                for name, value in self.__dict__.items()}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update({name: _as_polars(value) for name, value in state.items()})


def _as_arrow(value: Any) -> Any:
    if isinstance(value, pl.DataFrame):
        return value.to_arrow()
    if isinstance(value, dict):
        return {k: _as_arrow(v) for k, v in value.items()}
    return value


def _as_polars(value: Any) -> Any:
    if isinstance(value, pa.Table):
        return pl.from_arrow(value)
    if isinstance(value, dict):
        return {k: _as_polars(v) for k, v in value.items()}
    return value


class Converted:
    """Adds a chunk's data records to a shared counter (`multiprocessing.Value('q')`, or None
    for nobody) in steps while the chunk is worked on — after each decoded field, the columns
    and the validation — so that progress moves inside a chunk of any size; the steps of a
    chunk add up to its `data_read` exactly."""

    def __init__(self, counter: Any, records: int, steps: int):
        self.counter, self.records, self.steps = counter, records, max(steps, 1)
        self.done = self.added = 0

    def step(self) -> None:
        self.done += 1
        self._add(self.records * min(self.done, self.steps) // self.steps)

    def finish(self, data_read: int) -> None:
        self._add(data_read)

    def _add(self, upto: int) -> None:
        if self.counter is not None and upto != self.added:
            with self.counter.get_lock():
                self.counter.value += upto - self.added
            self.added = upto


class ChunkWorker:
    """Holds the per-process state (mapper, validator) built once from a ChunkContext.
    `converted`: the shared counter of data records converted (see `Converted`), or None."""

    def __init__(self, context: ChunkContext, converted: Any = None):
        from migrate.validate.rows import Validator  # pandera: import only here

        keep_freed_buffers()
        self.context = context
        self.converted = converted
        self.reader = open_reader(context.input, context.mapping, context.chunk_bytes)
        self.mapper = ChunkMapper(context.mapping, context.header, context.input.name,
                                  context.lookup_dir)
        locate = field_offsets(context.mapping)
        self.validator = Validator(context.mapping.target, locate)
        key = context.mapping.target.primary_key
        self.key_field = locate.get(key[0], (None, 0)) if key else (None, 0)

    def process(self, first_record: int, n: int, *where: int, part: int | None = None
                ) -> ChunkOutcome:
        """Convert one chunk; with `part` (its index in the plan) and a parts folder, write its
        candidate rows there and return only the columns the main process settles on."""
        chunk = self.reader.read_chunk(first_record, n, *where)
        members = (chunk.kinds == DATA) | (chunk.kinds >= CHILD)
        progress = Converted(self.converted, int(np.count_nonzero(members)),
                             len(self.mapper.used_fields) + 2)
        mapped = self.mapper.map(chunk, on_field=progress.step)
        progress.step()
        rows = mapped.rows
        v_errors, v_warnings = self.validator.validate(rows)
        progress.step()
        if chunk.cell_offsets is not None:
            v_errors, v_warnings = (self._cell_offsets(chunk, p) for p in (v_errors, v_warnings))
        # One problem, one reject: a value that failed to decode (or to map) is already a
        # problem; its null is not reported again, in any of the columns the field feeds.
        decoded_bad = mapped.errors.select("record", pl.col("column").str.split(",")) \
            .explode("column").drop_nulls().unique()
        if decoded_bad.height and v_errors.height:
            v_errors = v_errors.join(decoded_bad, on=["record", "column"], how="anti")
        errors = concat_problems([mapped.errors, v_errors])
        if mapped.groups is not None:
            errors = concat_problems([errors, group_rejections(errors, mapped.groups)])
        rejected = errors["record"].unique(maintain_order=True)
        is_rejected = pl.col(RECORD_COL).is_in(rejected.implode())
        candidates = rows.filter(~is_rejected)
        repeated = self._repeated_keys(candidates)
        if repeated.height:  # rejected here, so that the parts never hold them
            errors = concat_problems([errors, repeated])
            if mapped.groups is not None:
                errors = concat_problems([errors, group_rejections(errors, mapped.groups)])
            rejected = errors["record"].unique(maintain_order=True)
            is_rejected = pl.col(RECORD_COL).is_in(rejected.implode())
            candidates = rows.filter(~is_rejected)
        key = list(self.context.mapping.target.primary_key)
        rejected_keys = rows.filter(is_rejected).select(*key, RECORD_COL) if key else None
        names = kind_names(self.context.mapping.source)
        kinds = Counter({names[int(k)]: int(c) for k, c in
                         zip(*np.unique(chunk.kinds, return_counts=True), strict=True)})
        data_read = int(np.count_nonzero(members)) + mapped.unknown_records
        progress.finish(data_read)
        parts = None
        if part is not None and self.context.parts_dir is not None:
            target = self.context.mapping.target
            parts = write_parts(self.context.parts_dir, part, candidates, target.column_names,
                                target)
            candidates = candidates.select(settle_columns(target))
        outcome = ChunkOutcome(
            first_record=first_record, candidates=candidates, errors=errors,
            warnings=concat_problems([mapped.warnings, v_warnings]), kinds=kinds,
            data_read=data_read, rejected_records=rejected,
            control_values=mapped.control_values, groups=mapped.groups,
            rejected_keys=rejected_keys, defaults=mapped.defaults, gaiji=mapped.gaiji,
            parts=parts, records=len(chunk.kinds),
            framing=chunk_framing(self.context.mapping, chunk, self.context.header),
            figure_values=mapped.figure_values)
        if parts is not None:
            # pickled once, here: the journal's file, and what a pool worker hands back
            assert self.context.parts_dir is not None
            outcome.stored = write_part(self.context.parts_dir, part_name(parts.index, "outcome"),
                                        pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL))
        return outcome

    def _repeated_keys(self, candidates: pl.DataFrame) -> pl.DataFrame:
        """duplicate_key problems of the rows whose primary key an earlier row of the same
        chunk has, as the main process would find them (it checks keys across chunks, in
        input order): found here, the chunk's parts never hold these rows, so they are copied
        into the outputs as they are instead of being encoded again without them."""
        key = list(self.context.mapping.target.primary_key)
        if not key or candidates.height < 2:
            return empty_problems()
        first = pl.col(RECORD_COL).first().over(key)
        later = candidates.filter(pl.all_horizontal(pl.col(key).is_not_null())).with_columns(
            first.alias("__first")).filter(pl.col(RECORD_COL) != pl.col("__first"))
        if later.is_empty():
            return empty_problems()
        return duplicate_key_problems(
            later, key, self.key_field,
            [t("same key as record {record}", record=int(r)) for r in later["__first"].to_list()])

    def _cell_offsets(self, chunk: RecordChunk, problems: pl.DataFrame) -> pl.DataFrame:
        """Delimited sources: validation located a problem by the synthetic row; point its
        offset at the field's cell in the file instead."""
        if problems.is_empty():
            return problems
        rows = problems["record"].to_numpy() - chunk.first_record
        names = problems["field"].to_numpy()
        offsets = np.empty(len(rows), np.int64)
        for name in set(names.tolist()):
            same = names == name
            spec = self.context.mapping.fields.get(name) if name else None
            offsets[same] = self.mapper.offsets(chunk, rows[same], spec)
        return problems.with_columns(pl.Series("offset", offsets, dtype=pl.Int64))


def duplicate_key_problems(rows: pl.DataFrame, key: Sequence[str],
                           key_field: tuple[str | None, int], details: list[str]
                           ) -> pl.DataFrame:
    """duplicate_key problems of `rows` (candidate rows whose primary key an earlier record
    has), located at the key's field; `details` name that earlier record, row by row. The
    worker (a key repeated inside its chunk) and the main process (across chunks) both use it."""
    field, offset = key_field
    return problems_frame(
        rows[RECORD_COL].to_numpy(), rows[OFFSET_COL].to_numpy() + offset, field=field,
        column=",".join(key), reasons="duplicate_key",
        values=rows[key[0]].cast(pl.Utf8).to_list(), detail=details)


def group_rejections(errors: pl.DataFrame, groups: pl.DataFrame) -> pl.DataFrame:
    """Multi-record layouts: a record with a problem takes its whole group (the parent and its
    child records) with it, so no row is written from part of its records."""
    if errors.is_empty():
        return empty_problems()
    bad = groups.filter(pl.col("record").is_in(errors["record"].implode()))
    bad_parents = bad.filter(pl.col("parent") >= 0)["parent"].unique()
    taken = groups.filter(pl.col("parent").is_in(bad_parents.implode())
                          & ~pl.col("record").is_in(errors["record"].implode()))
    if taken.is_empty():
        return empty_problems()
    cause = bad.group_by("parent").agg(pl.col("record").min().alias("cause"))
    taken = taken.join(cause, on="parent", how="left", maintain_order="left")
    return problems_frame(taken["record"], taken["offset"], field=None, column=None,
                          reasons="group_rejected",
                          detail=[f"record {c}" for c in taken["cause"].to_list()])


_WORKER: ChunkWorker | None = None
_GROUP_PASS: Any = None


def group_partials_in_worker(first_record: int, n: int, *where: int) -> list[pl.DataFrame]:
    """Process-pool task of the group checks' first pass (see migrate.validate.groupcheck)."""
    from migrate.validate.groupcheck import GroupPass

    global _GROUP_PASS
    assert _WORKER is not None, "init_worker was not called"
    if _GROUP_PASS is None:
        _GROUP_PASS = GroupPass(_WORKER.context.mapping, _WORKER.context.header)
    return _GROUP_PASS.partials(_WORKER.reader.read_chunk(first_record, n, *where))


def init_worker(context: ChunkContext, converted: Any = None) -> None:
    """Process-pool initializer: tie the process's life to its parent's, then build the worker
    state once per process (`converted`: the run's shared counter, see `Converted`)."""
    global _WORKER
    guard_parent_death()
    # Ctrl-C reaches every process of the terminal's group: the parent stops the run (and
    # says so once); a worker ends with the pool, not with a traceback of its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _WORKER = ChunkWorker(context, converted)


_PR_SET_PDEATHSIG = 1
PARENT_GONE_EXIT = 70  # exit status of a worker that ended because its parent died
_GUARDED = False


def guard_parent_death() -> None:
    """End this process when the process that started it dies, however it dies (SIGKILL too).

    A pool worker blocks reading its task pipe, whose write end its siblings also hold, so it
    would otherwise wait forever: an orphan holding hundreds of MB and partial personal data.
    Two guards, either one enough:

    * on Linux, ``prctl(PR_SET_PDEATHSIG, SIGKILL)``: the kernel kills this process when the
      parent *thread* that spawned it ends. Workers are spawned by the thread that submits
      chunks, the one that runs the conversion, and the pool is shut down before that thread
      returns, so the signal only fires when the parent dies;
    * a daemon thread waiting for the parent's exit (a pidfd, else multiprocessing's parent
      sentinel, else polling) that calls ``os._exit``: it does not depend on which thread
      spawned us, and works where prctl does not.

    Does nothing in a process that multiprocessing did not start (the main process).
    """
    global _GUARDED
    parent = multiprocessing.parent_process()
    if _GUARDED or parent is None or parent.pid is None:
        return
    _GUARDED = True
    pid = parent.pid
    if sys.platform.startswith("linux") and os.getppid() == pid:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # no libc prctl: the watcher alone
            pass
        if os.getppid() != pid:  # the parent died before the signal was armed
            os._exit(PARENT_GONE_EXIT)
    threading.Thread(target=_watch_parent, args=(pid, getattr(parent, "sentinel", None)),
                     name="migrate-parent-watch", daemon=True).start()


def _watch_parent(pid: int, sentinel: int | None) -> None:
    """Block until process `pid` has ended, then end this process at once."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        os._exit(PARENT_GONE_EXIT)
    except (OSError, AttributeError):  # no pidfd (old kernel, not Linux)
        fd = None
    if fd is not None:
        select.select([fd], [], [])
    elif sentinel is not None:
        from multiprocessing.connection import wait

        wait([sentinel])
    else:
        while True:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            except PermissionError:
                pass
            time.sleep(0.5)
    os._exit(PARENT_GONE_EXIT)


def stop_resource_tracker() -> None:
    """After the workers have ended (a pool, a Dask cluster) and the run's shared progress
    counter was let go (LiveCount.release): end multiprocessing's resource tracker too, which
    the spawn context started. Left alone it outlives `migrate run` by a moment, in the run's
    process group (issue 19 saw it there); it ends cleanly, without a "leaked semaphore"
    warning, once every semaphore was released (the pool's queues are collected here) and its
    pipe is closed. Started again if a pool follows. Left alone while another child process of
    ours lives (a Dask cluster of the caller's): that child holds the tracker's pipe too, and
    the tracker would not end, nor while a semaphore lives on (say, in the traceback of an
    error): stopped then, the tracker would warn of a leak and unlink it under its owner —
    it ends after this process instead, once the semaphore's finalizer has unregistered it."""
    import gc
    from multiprocessing import resource_tracker
    from multiprocessing.synchronize import SemLock

    if multiprocessing.active_children():
        return
    gc.collect()  # the pool's queues and locks: their finalizers unregister the semaphores
    if any(isinstance(thing, SemLock) for thing in gc.get_objects()):
        return
    stop = getattr(resource_tracker._resource_tracker, "_stop", None)
    if stop is not None:
        stop()


@dataclass(frozen=True)
class StoredOutcome:
    """A chunk outcome a worker wrote to the parts folder: what it sends back instead of
    pickling the outcome a second time for the pipe (`load` reads it in the main process)."""

    folder: Path
    file: PartFile

    def load(self) -> ChunkOutcome:
        outcome = pickle.loads((self.folder / self.file.name).read_bytes())  # noqa: S301 - ours
        assert isinstance(outcome, ChunkOutcome)
        outcome.stored = self.file
        return outcome


def to_send(worker: ChunkWorker, outcome: ChunkOutcome) -> ChunkOutcome | StoredOutcome:
    """What a worker process sends back for an outcome: where it wrote it, when it did."""
    folder = worker.context.parts_dir
    if outcome.stored is not None and folder is not None:
        return StoredOutcome(folder, outcome.stored)
    return outcome


def received(result: ChunkOutcome | StoredOutcome) -> ChunkOutcome:
    """The outcome a worker process sent back (see `to_send`)."""
    return result.load() if isinstance(result, StoredOutcome) else result


def process_in_worker(first_record: int, n: int, *where: int, part: int | None = None
                      ) -> ChunkOutcome | StoredOutcome:
    """Process-pool task (module-level so it pickles by reference)."""
    assert _WORKER is not None, "init_worker was not called"
    return to_send(_WORKER, _WORKER.process(first_record, n, *where, part=part))
