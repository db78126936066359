"""`migrate batch`: many migrations (one town's plan, or one export file each) run as tasks,
each into an output folder of its own with its own one publish point, and a batch report that
sums them (OUT/batch.json and a summary on screen).

Locally the runs go one after another, each using this machine's cores for its chunks. With
`--engine dask` every run is one task on the cluster (a LocalCluster, or the one at
`--scheduler`): a worker converts the whole migration itself, reading its inputs from and
writing its folder to shared storage, so the client receives only each run's summary, never
records. A task converts in its worker process (a Dask worker cannot start a process pool);
the batch is spread over the cluster's workers, one migration per worker thread at a time.

A run that fails (exit 1, or an input error: exit 2) is reported and the others go on; the
batch's exit code is the worst of its runs'.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from migrate import __version__
from migrate.errors import MigrateError, UsageError
from migrate.layouts.batch import Batch, BatchRun
from migrate.read.fixed import DEFAULT_CHUNK_BYTES, file_sha256
from migrate.sinks.atomic import write_text_atomic

COUNTS = ("records_read", "accepted", "rejected", "rows")


@dataclass
class BatchResult:
    """Every run's summary, their totals, and where batch.json went."""

    runs: list[dict[str, Any]]
    batch_json: Path
    document: dict[str, Any] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        return max((int(r["exit_code"]) for r in self.runs), default=0)


def run_entry(entry: BatchRun, out: Path, workers: int | None = None,
              chunk_bytes: int = DEFAULT_CHUNK_BYTES, max_rejects: int | None = None
              ) -> dict[str, Any]:
    """Convert one run of the batch into `out` (its own publish point); its summary. Input and
    environment errors are part of the summary (exit 2), not raised: the batch goes on."""
    started = time.perf_counter()
    summary: dict[str, Any] = {"name": entry.name, "kind": "plan" if entry.plan else "file",
                               "out": str(out)}
    try:
        summary.update(_convert(entry, out, workers, chunk_bytes, max_rejects))
    except MigrateError as error:
        summary.update(status="error", exit_code=error.exit_code, error=str(error), files=0,
                       **dict.fromkeys(COUNTS, 0))
    summary["seconds"] = round(time.perf_counter() - started, 3)
    return summary


def _convert(entry: BatchRun, out: Path, workers: int | None, chunk_bytes: int,
             max_rejects: int | None) -> dict[str, Any]:
    if entry.plan is not None:
        from migrate.layouts.plan import load_plan
        from migrate.run.plan import run_plan

        result = run_plan(load_plan(entry.plan), out, db_url=entry.db, max_rejects=max_rejects,
                          chunk_bytes=chunk_bytes, workers=workers)
        files = result.document.get("files", [])
        counts = {"records_read": sum(int(f.get("data_records_read") or 0) for f in files),
                  "accepted": sum(int(f.get("accepted") or 0) for f in files),
                  "rejected": sum(int(f.get("rejected") or 0) for f in files),
                  "rows": sum(int(f.get("rows") or 0) for f in files)}
        return {"status": result.document.get("status"), "exit_code": result.exit_code,
                "files": len(files), "run_json": str(result.run_json), **counts}
    from migrate.layouts import load_mapping
    from migrate.run.pipeline import RunOptions, run

    result = run(RunOptions(load_mapping(entry.mapping), entry.input, out, entry.db,
                            max_rejects, chunk_bytes, workers=workers))
    ledger = result.ledger
    return {"status": result.document.get("status"), "exit_code": result.exit_code, "files": 1,
            "run_json": str(result.run_json), "records_read": ledger.data_read,
            "accepted": ledger.accepted, "rejected": ledger.rejected, "rows": ledger.rows}


def _absolute(entry: BatchRun) -> BatchRun:
    """Paths as every worker sees them on shared storage (workers have another cwd)."""
    from dataclasses import replace

    return replace(entry, plan=Path(os.path.abspath(entry.plan)) if entry.plan else None,
                   input=Path(os.path.abspath(entry.input)) if entry.input else None)


def _local(batch: Batch, out: Path, workers: int | None, chunk_bytes: int,
           max_rejects: int | None) -> Iterator[dict[str, Any]]:
    for entry in batch.runs:
        yield run_entry(entry, out / entry.name, workers, chunk_bytes, max_rejects)


def _dask(batch: Batch, out: Path, scheduler: str | None, workers: int | None,
          chunk_bytes: int, max_rejects: int | None) -> Iterator[dict[str, Any]]:
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise UsageError("--engine dask needs Dask, which is not installed",
                         hint="Install it with: pip install 'migrate[dask]'") from None
    from migrate.run.engines.dask import _connect, _parent_guard

    cluster = None
    if scheduler is None:
        from migrate.run.options import default_workers

        cluster = LocalCluster(n_workers=max(1, min(workers or default_workers(),
                                                    len(batch.runs))),
                               threads_per_worker=1, processes=True, dashboard_address=None,
                               silence_logs=logging.ERROR)
        client = Client(cluster, set_as_default=False)
        client.register_plugin(_parent_guard())
    else:
        client = _connect(scheduler)
    futures = []
    try:
        folder = Path(os.path.abspath(out))
        futures = [client.submit(run_entry, _absolute(entry), folder / entry.name, 1,
                                 chunk_bytes, max_rejects, pure=False,
                                 key=f"migrate-batch-{entry.name}-{os.getpid()}-{time.time_ns()}")
                   for entry in batch.runs]
        for future in futures:  # the tasks run at once; their summaries come in batch order
            yield future.result()
    finally:
        with contextlib.suppress(Exception):
            client.cancel([f for f in futures if not f.done()])
        client.close()
        if cluster is not None:
            cluster.close()


def run_batch(batch: Batch, out: Path, *, engine: str = "local", scheduler: str | None = None,
              workers: int | None = None, chunk_bytes: int = DEFAULT_CHUNK_BYTES,
              max_rejects: int | None = None,
              on_done: Callable[[dict[str, Any]], None] | None = None) -> BatchResult:
    """Run every migration of the batch into OUT/<name>; write OUT/batch.json."""
    if scheduler and engine != "dask":
        raise UsageError("--scheduler needs --engine dask",
                         hint="Add --engine dask to run on the Dask cluster at {address}.",
                         hint_params={"address": scheduler})
    try:
        out.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as error:
        raise UsageError("cannot create the output folder {path}: {reason}",
                         {"path": out, "reason": error.strerror or error},
                         hint="Give a writable --out.") from None
    started = datetime.now(UTC)
    clock = time.perf_counter()
    summaries = (_dask(batch, out, scheduler, workers, chunk_bytes, max_rejects)
                 if engine == "dask" else _local(batch, out, workers, chunk_bytes, max_rejects))
    done: dict[str, dict[str, Any]] = {}
    for summary in summaries:
        done[summary["name"]] = summary
        if on_done:
            on_done(summary)
    runs = [done[entry.name] for entry in batch.runs]  # in the order of the batch file
    result = BatchResult(runs, out / "batch.json")
    result.document = {
        "tool": {"name": "migrate", "version": __version__},
        "batch": batch.title,
        "path": str(batch.path), "sha256": file_sha256(batch.path),
        "engine": engine, "scheduler": scheduler,
        "started": started.isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - clock, 3),
        "exit_code": result.exit_code,
        "totals": totals(runs),
        "runs": runs,
    }
    write_text_atomic(result.batch_json, json.dumps(result.document, ensure_ascii=False,
                                                    indent=2))
    return result


def totals(runs: list[dict[str, Any]]) -> dict[str, int]:
    """The batch's sums: runs by outcome, files, records and rows."""
    return {"runs": len(runs),
            "reconciled": sum(r["status"] == "reconciled" for r in runs),
            "failed": sum(r["status"] == "failed" for r in runs),
            "errors": sum(r["status"] == "error" for r in runs),
            "files": sum(int(r.get("files") or 0) for r in runs),
            **{name: sum(int(r.get(name) or 0) for r in runs) for name in COUNTS}}
