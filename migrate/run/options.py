"""What a run was asked to do (RunOptions) and what it produced (RunResult): shared by the
pipeline, the plan runner, the engines and the screen summary without importing the pipeline.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

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
    # first one loaded; the last re-checks the whole table against every file's Parquet.
    db_append: bool = False
    db_verify: bool = True
    db_parts: tuple[tuple[Path, int], ...] = ()  # (Parquet output, rows) of the earlier files


@dataclass
class RunResult:
    """The ledger and where the outputs went."""

    ledger: Ledger
    run_json: Path
    outputs: dict[str, Path] = field(default_factory=dict)
    max_rejects_exceeded: bool = False

    @property
    def exit_code(self) -> int:
        return 0 if self.ledger.ok and not self.max_rejects_exceeded else 1


def default_workers() -> int:
    """All cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1
