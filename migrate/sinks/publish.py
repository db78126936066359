"""One publish point for a run's output folder: everything is written into a staging folder
beside OUT, and OUT is replaced by it in one atomic step, or not at all.

    parent/.OUT.lock                 held (flock) for the whole run: one run per OUT at a time
    parent/.OUT.staging-<run id>/    where the run writes: files, run.json, report, SQLite
    parent/OUT/                      the previous complete result, until the exchange
    parent/OUT.failed-<time>/        the evidence of a run that did not reconcile

The exchange is one `renameat2(RENAME_EXCHANGE)` system call (Linux): at every instant OUT is
either the previous complete folder or the new one. Where the call is missing, two renames are
used (OUT → .OUT.previous-<id>, staging → OUT) and the next run puts a stranded previous folder
back. Hand-written because no maintained library swaps two directories atomically; the rest is
the standard library.

A run that dies leaves its staging folder behind (it may hold personal data): the next run into
the same OUT removes it under the lock, or rolls it forward when it had already published its
database tables (see `recover`).
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import json
import os
import secrets
import shutil
import signal
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from migrate.errors import UsageError

MARKER = ".publishing"  # in a staging folder: its database tables are being published
PARTS, JOURNAL = ".parts", "journal.jsonl"  # a run's chunk parts and journal (--resume)
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def checkpoint(name: str) -> None:
    """The kill tests' hook: MIGRATE_KILL_AT=<name> ends this process by SIGKILL at that point
    of the publish sequence (tests/run/test_kills.py proves OUT survives each one)."""
    if os.environ.get("MIGRATE_KILL_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)


def new_run_id() -> str:
    """A short id that names one run's staging folder and staging tables."""
    return secrets.token_hex(3)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two directories atomically; False where the system cannot."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except AttributeError:  # pragma: no cover - glibc < 2.28 or not Linux
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                          ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(a))


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
    if path.exists() and not path.is_dir():
        path.unlink(missing_ok=True)


class Staging:
    """The staging folder of one run (or one plan) and the lock on its OUT."""

    def __init__(self, out: Path, run_id: str | None = None):
        given = Path(os.path.abspath(out))  # OUT itself may be a link: it is what is swapped
        self.out = given.parent.resolve() / given.name if given.name else given
        if self.out.parent == self.out:
            raise UsageError("the output folder cannot be the root folder {path}",
                             {"path": self.out}, hint="Give a folder of its own, e.g. --out out.")
        if self.out.exists() and not self.out.is_dir():
            raise UsageError("the output {path} exists and is not a folder", {"path": self.out},
                             hint="Give a new or an existing folder as --out.")
        self.parent = self.out.parent
        self.run_id = run_id or new_run_id()
        try:
            self.parent.mkdir(parents=True, exist_ok=True)
            self._lock = os.open(self.parent / f".{self.out.name}.lock",
                                 os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise _cannot_write(self.parent, exc) from None
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(self._lock, 32, 0).decode("ascii", "replace").strip()
            os.close(self._lock)
            raise UsageError("another run is writing to {path} (process {pid})",
                             {"path": self.out, "pid": holder or "?"},
                             hint="Wait until it ends, or give another --out.") from None
        os.ftruncate(self._lock, 0)
        os.pwrite(self._lock, str(os.getpid()).encode(), 0)
        self.path = self.parent / f".{self.out.name}.staging-{self.run_id}"
        self.failed: Path | None = None
        self.resumed = False

    # ------------------------------------------------------------------ life

    def begin(self, still_published: Callable[[dict[str, Any]], bool] | None = None, *,
              resume: bool = False, parts: tuple[str, ...] = (PARTS,)) -> Path:
        """Clean up after earlier runs (under the lock), then make the staging folder. With
        `resume`, the newest staging folder of a run that died while converting (it holds a
        chunk journal in one of the `parts` folders — a plan: one per file — and had not begun
        to publish) becomes this run's, emptied of all but those parts folders; `resumed` says
        whether there was one."""
        found = resumable(self.out, parts) if resume else None
        if found is not None:
            self.path = found
            self.run_id = found.name.rsplit("-", 1)[-1]
        recover(self.out, still_published, keep=found)
        self.resumed = found is not None
        try:
            if found is not None:
                _empty_but(found, {found / p for p in parts})
            else:
                self.path.mkdir(mode=0o700)
        except OSError as exc:
            self.release()
            raise _cannot_write(self.parent, exc) from None
        return self.path

    def mark_publishing(self, info: dict[str, Any]) -> None:
        """Before the database tables are published: a run killed after that commit is rolled
        forward by the next one (its folder is published), not thrown away."""
        marker = self.path / MARKER
        marker.write_text(json.dumps(info), encoding="utf-8")
        os.chmod(marker, 0o600)
        _fsync_dir(self.path)

    def publish(self) -> Path:
        """Replace OUT by the staging folder in one step; the previous folder is removed."""
        _publish_folder(self.path, self.out, self.run_id)
        self.release()
        return self.out

    def fail(self, keep: tuple[str, ...] = ("run.json", "report.html", "rejects.csv",
                                             "warnings.csv", "rejects.xlsx", "warnings.xlsx")
             ) -> Path:
        """Keep the evidence of a run that did not reconcile in OUT.failed-<time>; the
        standard-layout outputs (unpublished personal data) are removed."""
        for item in self.path.rglob("*"):
            if item.is_file() and item.name not in keep:
                item.unlink()
        stamp = datetime.now().strftime("%Y%m%dT%H%M%S")
        target = self.parent / f"{self.out.name}.failed-{stamp}-{self.run_id}"
        os.replace(self.path, target)
        self.failed = target
        self.release()
        return target

    def discard(self) -> None:
        """Remove everything this run staged (an error or an interruption)."""
        _remove(self.path)
        self.release()

    def release(self) -> None:
        if self._lock >= 0:
            os.close(self._lock)  # closing the descriptor releases the flock
            self._lock = -1


def _publish_folder(staged: Path, out: Path, run_id: str) -> None:
    if out.exists() and _exchange(staged, out):
        _fsync_dir(out.parent)
        checkpoint("exchanged")
        (out / MARKER).unlink(missing_ok=True)
        _remove(staged)  # now the previous result
        return
    previous = out.parent / f".{out.name}.previous-{run_id}"
    if out.exists():
        os.replace(out, previous)
    checkpoint("between-renames")
    os.replace(staged, out)
    _fsync_dir(out.parent)
    (out / MARKER).unlink(missing_ok=True)
    _remove(previous)


def resumable(out: Path, parts: tuple[str, ...] = (PARTS,)) -> Path | None:
    """The newest staging folder beside OUT that a --resume can continue: it has a chunk
    journal (migrate.run.journal) in one of its `parts` folders and no publish marker."""

    def newest(staged: Path) -> int:
        return max(((staged / p / JOURNAL).stat().st_mtime_ns for p in parts
                    if (staged / p / JOURNAL).is_file()), default=-1)

    found = [staged for staged in out.parent.glob(f".{out.name}.staging-*")
             if newest(staged) >= 0 and not (staged / MARKER).exists()]
    return max(found, key=newest, default=None)


def _empty_but(folder: Path, keep: set[Path]) -> None:
    """Remove everything in `folder` but the paths in `keep` (and the folders leading there)."""
    for item in folder.iterdir():
        if item in keep:
            continue
        if item.is_dir() and not item.is_symlink() and any(k.is_relative_to(item) for k in keep):
            _empty_but(item, keep)
        else:
            _remove(item)


def recover(out: Path, still_published: Callable[[dict[str, Any]], bool] | None = None,
            keep: Path | None = None) -> list[str]:
    """Leftovers of runs that died, found while holding OUT's lock (so none is running):
    a previous folder stranded between two renames goes back to OUT; a staging folder whose
    database tables were already published (its marker says which, and `still_published`
    confirms the database has them) is published; any other staging folder is removed.
    Returns what was done, for the log."""
    given = Path(os.path.abspath(out))
    out = given.parent.resolve() / given.name if given.name else given
    done = []
    if (out / MARKER).is_file():  # killed right after the exchange: OUT is complete
        (out / MARKER).unlink()
    for previous in sorted(out.parent.glob(f".{out.name}.previous-*")):
        if out.exists():
            _remove(previous)
            done.append(f"removed {previous.name}")
        else:
            os.replace(previous, out)
            done.append(f"restored {out.name} from {previous.name}")
    for staged in sorted(out.parent.glob(f".{out.name}.staging-*")):
        if staged == keep:
            continue
        marker = staged / MARKER
        info: dict[str, Any] | None = None
        if marker.is_file():
            try:
                info = json.loads(marker.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                info = None
        if info is not None and still_published is not None and still_published(info):
            _publish_folder(staged, out, staged.name.rsplit("-", 1)[-1])
            done.append(f"published {staged.name} (its database tables were published)")
        else:
            _remove(staged)
            done.append(f"removed {staged.name}")
    return done


def _cannot_write(folder: Path, exc: OSError) -> UsageError:
    return UsageError("cannot write in {path}: {reason}",
                      {"path": folder, "reason": exc.strerror or str(exc)},
                      hint="Give an --out folder on a writable disk with free space.")
