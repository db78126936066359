"""What a run was asked to do (RunOptions) and what it produced (RunResult): shared by the
pipeline, the plan runner, the engines and the screen summary without importing the pipeline.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from migrate.layouts import Mapping
from migrate.read.fixed import DEFAULT_CHUNK_BYTES
from migrate.reconcile.ledger import Ledger
from migrate.validate.crossfile import CrossFile


@dataclass
class RunOptions:
    """What `migrate run` was asked to do."""

    mapping: Mapping
    input: Path
    out_dir: Path
    db_url: str | None = None
    max_rejects: int | None = None
    chunk_bytes: int = DEFAULT_CHUNK_BYTES
    progress: Callable[[int, int], None] | None = None  # (records done, records in the file)
    workers: int | None = None  # processes for the per-chunk work; None = all cores
    engine: str = "local"  # where the per-chunk work runs: local | dask (migrate.run.engines)
    scheduler: str | None = None  # dask: scheduler address; None = a LocalCluster
    cross: CrossFile | None = None  # the other files of a migration plan (keys, references)
    # Several files of one layout in a plan: all but the first add their rows to the table the
    # first one loaded; the last verifies the whole table against what every file sent.
    db_append: bool = False
    db_verify: bool = True
    db_proofs: tuple[Any, ...] = ()  # the LoadProof of each earlier file's load (sinks)
    # Set by the one publish point (migrate.run.pipeline.run, migrate.run.plan): out_dir is then
    # inside the staging folder; `published` = (staging folder, OUT) turns a path into where
    # it will be; run_id names this run's staging tables; private_db: the database is the
    # staging folder's own SQLite file (its tables are published as soon as they verify).
    published: tuple[Path, Path] | None = None
    run_id: str = "run"
    private_db: bool = False
    resume: bool = False  # --resume: reuse the chunks an interrupted run journaled
    # a file of a plan: its folder in the plan's staging folder; its chunk parts and journal
    # stay until the plan ends, so that a killed plan resumes (and its checkpoints say its name)
    area: str | None = None
    # the share of the data records that may be rejected (and above which one reason at one
    # field is a probable mapping error); None: no limit, and that share is a half
    max_reject_rate: float | None = None

    def final_path(self, path: Path) -> Path:
        """Where a path the run writes will be once published."""
        if self.published is None or not path.is_relative_to(self.published[0]):
            return path
        return self.published[1] / path.relative_to(self.published[0])


@dataclass
class RunResult:
    """The ledger and where the outputs went."""

    ledger: Ledger
    run_json: Path
    outputs: dict[str, Path] = field(default_factory=dict)
    max_rejects_exceeded: bool = False
    sql_sink: Any = None  # the database sink, staged and verified, until the publish point
    document: dict[str, Any] = field(default_factory=dict)  # what run.json holds
    written_to: Path | None = None  # where the files are until published (the staging folder)
    diagnosis: Any = None  # a probable mapping error (migrate.reconcile.diagnosis.Diagnosis)

    @property
    def exit_code(self) -> int:
        if self.diagnosis is not None:
            return 1
        return 0 if self.ledger.ok and not self.max_rejects_exceeded else 1


def default_workers() -> int:
    """All cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1
