"""Write: CSV, Parquet and SQL outputs, staged and committed atomically (`atomic`).
May import `layouts`, `errors`, `i18n`; never `read` or `decode`.

Output sinks: each writes standardized chunks to a staging name and commits atomically.

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


class BackgroundSink:
    """Runs a sink's writes on its own thread, so sinks overlap each other and the main loop.

    The queue is bounded (a couple of chunks), so memory stays bounded by the chunk size; polars
    and pyarrow release the GIL while they write. An error in the thread is raised again by the
    next write() or by commit().
    """

    def __init__(self, sink: Sink, depth: int = 2):
        import queue
        import threading

        self.sink = sink
        self.name = sink.name
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._drain, name=f"sink-{sink.name}",
                                        daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        while True:
            frame = self._queue.get()
            if frame is None:
                return
            if self._error is None:
                try:
                    self.sink.write(frame)
                except BaseException as exc:  # re-raised in the main thread
                    self._error = exc

    def _raise(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def write(self, frame: pl.DataFrame) -> None:
        self._raise()
        self._queue.put(frame)

    def _finish(self) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()

    def commit(self) -> None:
        self._finish()
        self._raise()
        self.sink.commit()

    def abort(self) -> None:
        self._finish()
        self._error = None
        self.sink.abort()

    def count(self) -> int:
        return self.sink.count()

    def outputs(self) -> list[Path]:
        return self.sink.outputs()

    def __getattr__(self, name: str):
        return getattr(self.sink, name)
