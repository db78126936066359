"""The chunk journal of a run, so that `migrate run --resume` continues after a kill.

It lives in the run's parts folder (migrate.run.parts), inside the staging folder:

    .parts/journal.jsonl       line 1: what the run converts (hashes of the input, the mapping
                               and its tables, the chunk size, the version); then one line per
                               chunk, in input order, once its parts and outcome are on disk
    .parts/part-000042.outcome what the main process settles the chunk from (keys, problems,
                               counts, control values), as the worker wrote it

Every file is fsynced before its journal line is, and the line after it, so a line names only
complete files; each file's size and SHA-256 are in its line and are checked again on resume.
A resumed run replays the journaled chunks in order from these files — the key checks, the
ledger and the outputs are rebuilt exactly as the first run built them — and converts the rest:
the result is byte-identical to a run that was never interrupted. The outcome files are pickles
(as the pool sends them) read only from the run's own owner-only staging folder and only after
their SHA-256 matched the journal.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from migrate import __version__
from migrate.errors import UsageError
from migrate.i18n import t
from migrate.layouts import Mapping
from migrate.read.fixed import file_sha256
from migrate.run.chunkwork import ChunkOutcome
from migrate.run.parts import PartFile, part_intact, part_name, write_part
from migrate.sinks.atomic import private_open
from migrate.sinks.publish import JOURNAL

FORMAT = 2  # 2: Parquet parts instead of Arrow IPC


class ResumeRefused(UsageError):
    """--resume with another input, mapping or chunk size than the interrupted run's: exit 2,
    and the interrupted run's staging folder stays as it was."""


def run_identity(mapping: Mapping, input_path: Path, input_sha256: str, chunk_bytes: int
                 ) -> dict[str, Any]:
    """What must not change for a journal's chunks to be reused: the input, the mapping, its
    layout and code tables (the whole loaded definition), the chunk size and the version."""
    definition = hashlib.sha256(repr(mapping).encode("utf-8", "surrogatepass")).hexdigest()
    return {"format": FORMAT, "version": __version__, "input_sha256": input_sha256,
            "input_bytes": input_path.stat().st_size,
            "mapping_sha256": file_sha256(mapping.path),
            "schema_sha256": file_sha256(mapping.target.path),
            "definition_sha256": definition, "chunk_bytes": chunk_bytes}


class ChunkJournal:
    """Appends committed chunks; on resume, gives back the chunks that can be reused."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.path = folder / JOURNAL
        self.handle: Any = None
        self.reusable: list[dict[str, Any]] = []
        self.identity: Callable[[], dict[str, Any]] | None = None

    def resume(self, identity: dict[str, Any], input_path: Path) -> int:
        """Read an interrupted run's journal: the chunks to reuse (a prefix of the input).
        UsageError when it was written for another input, mapping or chunk size."""
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            return 0
        entries = []
        for line in lines:
            try:
                entries.append(json.loads(line))
            except ValueError:
                break  # a line cut by the kill: nothing after it was committed
        if not entries:
            return 0
        recorded = entries[0].get("identity") or {}
        changed = [key for key in identity if recorded.get(key) != identity[key]]
        if changed:
            raise ResumeRefused(
                "--resume refused: the {what} changed since the interrupted run",
                {"what": _what_changed(changed)}, file=input_path,
                hint="Resume only with the same input file, mapping and --chunk-mb. To "
                     "convert this input, run again without --resume (the interrupted run's "
                     "leftovers are then removed).")
        for expected, entry in enumerate(entries[1:]):
            if entry.get("index") != expected or not self._intact(entry):
                break
            self.reusable.append(entry)
        return len(self.reusable)

    def _intact(self, entry: dict[str, Any]) -> bool:
        try:
            files = [PartFile(**entry["outcome"]),
                     *(PartFile(**entry["parts"][kind]) for kind in ("csv", "parquet"))]
        except (KeyError, TypeError):
            return False
        return all(part_intact(self.folder, f) for f in files)

    def replay(self, position: int) -> ChunkOutcome:
        """The outcome of a journaled chunk, as it was first settled."""
        entry = self.reusable[position]
        data = (self.folder / entry["outcome"]["name"]).read_bytes()
        if hashlib.sha256(data).hexdigest() != entry["outcome"]["sha256"]:  # changed since
            raise ResumeRefused("--resume refused: the journal of the interrupted run changed",
                             hint="Run again without --resume.")
        outcome = pickle.loads(data)  # noqa: S301 - our own file, hash-checked (see above)
        assert isinstance(outcome, ChunkOutcome)
        return outcome

    def begin(self, identity: Callable[[], dict[str, Any]]) -> None:
        """The journal is (re)written when the first new chunk is committed, starting with
        `identity()` (it waits for the input's hash) and the reused chunks' lines."""
        self.identity = identity

    def _open(self) -> None:
        assert self.identity is not None, "begin() was not called"
        header = {"identity": self.identity()}
        temp = self.path.with_name(f".{JOURNAL}.tmp")
        self.handle = private_open(temp, "wb")
        for entry in (header, *self.reusable):
            self._append(entry)
        os.replace(temp, self.path)

    def commit(self, index: int, task: tuple[int, ...], outcome: ChunkOutcome) -> None:
        """A chunk is done: its outcome on disk, then its journal line (both fsynced)."""
        parts = outcome.parts
        assert parts is not None and parts.index == index
        if self.handle is None:
            self._open()
        stored = outcome.stored  # the worker wrote it (ChunkWorker.process)
        if stored is None:
            stored = write_part(self.folder, part_name(index, "outcome"),
                                pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL))
        self._append({"index": index, "task": list(task), "rows": parts.rows,
                      "parts": {"csv": asdict(parts.csv), "parquet": asdict(parts.parquet)},
                      "outcome": asdict(stored)})

    def _append(self, entry: dict[str, Any]) -> None:
        self.handle.write(json.dumps(entry, ensure_ascii=True).encode("ascii") + b"\n")
        self.handle.flush()
        os.fsync(self.handle.fileno())

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()
            self.handle = None


def _what_changed(keys: list[str]) -> str:
    if any(k.startswith("input") for k in keys):
        return t("input file")
    if "chunk_bytes" in keys:
        return t("chunk size (--chunk-mb)")
    if "version" in keys or "format" in keys:
        return t("version of migrate")
    return t("mapping")

