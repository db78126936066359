"""Engines that run the per-chunk work somewhere else than this machine's process pool.

`local` (the default) lives in migrate.run.pipeline. Every other engine runs the same function —
`migrate.run.chunkwork.ChunkWorker.process` over the record-aligned ranges of
`FixedWidthReader.plan()` — and yields its `ChunkOutcome`s in input order with a bounded number
of chunks in flight, so the key check, the sinks and the reconciliation ledger do not know which
engine ran. An engine's dependencies are imported only when it is used.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from migrate.errors import UsageError

if TYPE_CHECKING:
    from migrate.read.fixed import FixedWidthReader
    from migrate.run.chunkwork import ChunkContext, ChunkOutcome
    from migrate.run.options import RunOptions

ENGINES = ("local", "dask")


def engine_outcomes(options: RunOptions, context: ChunkContext, reader: FixedWidthReader,
                    tasks: list[tuple[int, tuple[int, ...]]]) -> Iterator[ChunkOutcome]:
    """Outcomes of `tasks` — (index, range) of chunks of `reader.plan()` — in input order,
    from `options.engine`; each task writes its chunk's output parts (migrate.run.parts)."""
    if options.engine == "dask":
        from migrate.run.engines.dask import dask_outcomes

        return dask_outcomes(context, tasks, reader.file_size,
                             scheduler=options.scheduler, workers=options.workers)
    raise UsageError("unknown engine '{engine}'", {"engine": options.engine},
                     hint="Use one of: {known}.", hint_params={"known": ", ".join(ENGINES)})
