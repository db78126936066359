"""Output sinks: each writes standardized chunks to a staging name and commits atomically.

A sink can re-count what it committed, so reconciliation checks the output itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import polars as pl


class Sink(Protocol):
    """What the pipeline needs from an output."""

    name: str

    def write(self, frame: pl.DataFrame) -> None: ...

    def commit(self) -> None: ...

    def abort(self) -> None: ...

    def count(self) -> int: ...

    def outputs(self) -> list[Path]: ...
