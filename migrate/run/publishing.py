"""The one publish point of a run or a plan: its database tables and its output folder are
published together when everything reconciles, and nothing is published otherwise.

Order, and what a kill at each point leaves (the next run into the same OUT cleans up):

1. everything is written into the staging folder; database rows into staging tables, committed
   and verified there → OUT and the tables untouched; the staging leftovers are removed;
2. a run that does not reconcile (exit 1): staging tables dropped, the evidence (run.json,
   report, rejects) moved to OUT.failed-<time>-<id> → OUT and the tables untouched;
3. the database publish: one transaction replaces every table by its staging table;
4. the folder publish: OUT is exchanged with the staging folder in one rename.

Between 3 and 4 the staging folder carries a marker naming its staging tables; a run that dies
there is rolled forward by the next one (the tables are gone from the database, so they were
published: the folder is published too). With the default database (SQLite inside OUT), the
database file itself lives in the staging folder, so 3 and 4 are one step for everyone else.
Ctrl-C is held back during 3 and 4 so that they finish.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import signal
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from migrate.errors import MigrateError, UsageError
from migrate.sinks.dictionary import DICTIONARY_TABLE
from migrate.sinks.publish import PARTS, Staging, checkpoint, recover
from migrate.sinks.sql import (
    SqlSink,
    connect,
    create_engine,
    parse_url,
    safe_url,
)
from migrate.sinks.swap import (
    discard_tables,
    drop_leftover_staging,
    publish_tables,
    staging_tables_exist,
)

DB_FILE = "migrate.db"


def private_database(out: Path, staged: Path, tables: set[str], name: str = DB_FILE) -> None:
    """A SQLite database inside OUT (the default OUT/migrate.db, or any --db file in OUT), as
    the staging folder's own copy: a fresh file when the old one holds only tables this run
    replaces (or none; the data dictionary only describes tables), else a copy made with
    SQLite's backup API (other tables are kept, and their rows of the dictionary)."""
    old = out / name
    if not old.is_file():
        return
    try:
        with sqlite3.connect(f"file:{old}?mode=ro", uri=True) as source:
            names = {row[0] for row in source.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%'")}
            if all(n in tables or n == DICTIONARY_TABLE or "__staging" in n for n in names):
                return
            (staged / name).parent.mkdir(parents=True, exist_ok=True)
            target = sqlite3.connect(staged / name)
            try:
                source.backup(target)
                for name in sorted(n for n in names if "__staging" in n):
                    target.execute(f'DROP TABLE "{name.replace(chr(34), chr(34) * 2)}"')
                target.commit()
            finally:
                target.close()
    except sqlite3.DatabaseError:
        return  # not a database we can read: the run starts a new one, the old file goes
    (staged / name).chmod(0o600)


def still_published(db_url: str | None):
    """For `Staging.begin`: whether a dead run's staging tables were published (they are no
    longer in this run's database)."""

    def check(info: dict[str, Any]) -> bool:
        if db_url is None or info.get("database") != safe_url(db_url):
            return False
        tables = [str(t) for t in info.get("staging_tables") or []]
        try:
            return bool(tables) and not staging_tables_exist(db_url, tables)
        except MigrateError:
            return False

    return check


class DatabaseLock:
    """One run at a time loads a database outside OUT: a lock file beside a SQLite database,
    an advisory lock on PostgreSQL, held until `release` (or the process ends, even by kill).
    Under it, staging tables that dead runs left can be dropped safely."""

    def __init__(self, db_url: str | None):
        self.handle: Any = None
        if db_url is None or db_url == "none":
            return
        parsed = parse_url(db_url)  # a bad URL is a UsageError (masked), not a crash
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "",
                                                                             ":memory:"):
            path = Path(f"{parsed.database}.lock")
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError:
                return  # the database error itself will say what is wrong with the folder
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise self._busy(db_url) from None
            self.handle = fd
        elif parsed.get_backend_name() == "postgresql":
            engine = create_engine(db_url)
            conn = connect(engine)
            got = conn.exec_driver_sql("SELECT pg_try_advisory_lock(hashtext('migrate run'))"
                                       ).scalar()
            conn.commit()
            if not got:
                conn.close()
                engine.dispose()
                raise self._busy(db_url)
            self.handle = (engine, conn)

    @staticmethod
    def _busy(db_url: str) -> UsageError:
        return UsageError("another run is loading this database: {url}",
                          {"url": safe_url(db_url)},
                          hint="Wait until it ends, then run again; nothing was changed.")

    def release(self) -> None:
        if isinstance(self.handle, int):
            os.close(self.handle)
        elif self.handle is not None:
            engine, conn = self.handle
            with suppress(Exception):
                # unlocked now: closing alone frees the lock only once the server process has
                # ended, which a busy server does after the next run has already asked for it
                conn.exec_driver_sql("SELECT pg_advisory_unlock(hashtext('migrate run'))")
                conn.commit()
            with suppress(Exception):
                conn.close()
            engine.dispose()
        self.handle = None


def clean_database(db_url: str | None, tables: list[str]) -> None:
    """Staging tables of these layouts that dead runs left in an external database (call it
    holding the DatabaseLock)."""
    if db_url is not None and db_url != "none":
        with suppress(MigrateError):
            drop_leftover_staging(db_url, tables)


@contextmanager
def interrupts_held() -> Iterator[None]:
    """Ctrl-C waits until the publish has finished (then it interrupts as usual)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        raise KeyboardInterrupt


def settle(stage: Staging, ok: bool, db_url: str | None, sinks: list[SqlSink]) -> Path:
    """Publish everything (ok) or nothing. `sinks`: the staged tables of a database outside
    the staging folder (db_url). Returns the folder the run's run.json is in now: OUT, or
    the failed-run folder."""
    checkpoint("staged")
    if not ok:
        if sinks and db_url:
            discard_tables(db_url, sinks)
        return stage.fail()
    try:
        with interrupts_held():
            if sinks and db_url:
                stage.mark_publishing({"database": safe_url(db_url), "staging_tables": sorted(
                    {s.staging.name for s in sinks})})
                checkpoint("marked")
                publish_tables(db_url, sinks)
                checkpoint("tables-published")
            return stage.publish()
    except MigrateError as error:
        if sinks and db_url:
            discard_tables(db_url, sinks)
        failed = stage.fail()
        _mark_failed(failed, error)
        raise


def _mark_failed(folder: Path, error: MigrateError) -> None:
    """run.json of a run whose publish was refused says so (it was written before)."""
    run_json = folder / "run.json"
    try:
        document = json.loads(run_json.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    document["status"] = "failed"
    document["exit_code"] = error.exit_code
    document["publish_error"] = str(error)
    run_json.write_text(json.dumps(document, ensure_ascii=False, indent=2), encoding="utf-8")


_DISK_ERRORS = {errno.ENOSPC: "disk", errno.EDQUOT: "disk", errno.EFBIG: "disk",
                errno.EROFS: "read-only", errno.EACCES: "read-only", errno.EPERM: "read-only",
                errno.EIO: "io"}


def output_error(error: BaseException, out: Path) -> UsageError | None:
    """Writing the outputs failed because of the machine (a full disk or quota, a read-only or
    failing disk): exit 2 with the system's words, not a crash. Nothing was published."""
    if not isinstance(error, OSError):
        return None
    code = error.errno
    if code is None:  # polars and pyarrow pass on Rust's and C++'s text: "… (os error 28)"
        found = re.search(r"os error (\d+)", str(error))
        code = int(found.group(1)) if found else None
    if code not in _DISK_ERRORS:
        return None
    hint = {"disk": "The disk of the output folder is full. Nothing was published and the "
                    "previous result is untouched; free space there (or give another --out), "
                    "then run again.",
            "read-only": "The output folder cannot be written by this user. Nothing was "
                         "published; give a writable --out, then run again.",
            "io": "The disk of the output folder reported an error. Nothing was published; "
                  "check the disk, then run again."}[_DISK_ERRORS[code]]
    return UsageError("cannot write the outputs beside {path}: {reason}",
                      {"path": out, "reason": error.strerror or os.strerror(code)}, hint=hint)


class PublishPoint:
    """The one publish point of a run or a plan, opened before anything is written: OUT's lock
    and staging folder, the lock of a database outside OUT (cleared of dead runs' staging
    tables), or the staging folder's own copy of the default SQLite database.

    `work_db` is where the run loads; `published` maps the staging folder to OUT for the paths
    run.json names. Exactly one of `settle` or `abandon` ends it."""

    def __init__(self, out: Path, db_url: str | None, tables: list[str], *,
                 resume: bool = False, parts: tuple[str, ...] = (PARTS,)):
        self.tables = tables
        self.stage = Staging(out)
        # a SQLite file inside OUT is swapped with OUT: it lives in the staging folder too
        self.db_file = DB_FILE if db_url is None else _sqlite_inside(db_url, self.stage.out)
        self.private_db = self.db_file is not None
        self.external = None if self.private_db or db_url == "none" else db_url
        self.lock: DatabaseLock | None = None
        try:
            self.lock = DatabaseLock(self.external)
            self.stage.begin(still_published(self.external), resume=resume, parts=parts)
        except BaseException:
            if self.lock is not None:
                self.lock.release()
            self.stage.release()
            raise
        try:
            clean_database(self.external, tables)
            if self.db_file is not None:
                private_database(self.stage.out, self.stage.path, set(tables), self.db_file)
        except BaseException:
            self.abandon()
            raise
        self.work_db = (f"sqlite:///{self.stage.path / self.db_file}" if self.db_file
                        else str(db_url))
        self.published = (self.stage.path, self.stage.out)
        self.run_id = self.stage.run_id

    def settle(self, ok: bool, sinks: list[SqlSink | None]) -> Path:
        """Publish everything (ok) or nothing; the folder run.json is in now (OUT, or the
        failed-run folder). The default database's tables are already in place in the staging
        folder; those of a database outside OUT are published here."""
        shared = [] if self.private_db else [s for s in sinks if s is not None]
        try:
            return settle(self.stage, ok, self.external, shared)
        finally:
            self._release_lock()

    def abandon(self) -> None:
        """An error or an interruption: this run's staging tables and folder go."""
        if self.external:
            with suppress(MigrateError):
                drop_leftover_staging(self.external, self.tables, self.run_id)
        self.stage.discard()
        self._release_lock()

    def leave(self) -> None:
        """Stop without publishing or discarding: the staging folder stays for a later
        --resume (a resume that was refused); the locks are released."""
        if self.external:
            with suppress(MigrateError):
                drop_leftover_staging(self.external, self.tables, self.run_id)
        self.stage.release()
        self._release_lock()

    def _release_lock(self) -> None:
        if self.lock is not None:
            self.lock.release()
            self.lock = None


def _sqlite_inside(db_url: str, out: Path) -> str | None:
    """The path of a SQLite database file inside OUT, relative to OUT (else None)."""
    if db_url == "none":
        return None
    parsed = parse_url(db_url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    path = Path(os.path.abspath(parsed.database))
    path = path.parent.resolve() / path.name
    return str(path.relative_to(out)) if path.is_relative_to(out) and path != out else None


def recover_output(out: Path, db_url: str | None) -> list[str]:
    """What a run that died left beside OUT, settled under OUT's lock (for `migrate
    reconcile`): a stranded previous folder restored, a staging folder whose tables were
    published rolled forward, any other removed. A run still writing is a UsageError."""
    stage = Staging(out)
    lock = None
    try:
        lock = DatabaseLock(db_url)
        done = recover(stage.out, still_published(db_url))
        if db_url is not None and (stage.out / "run.json").is_file():
            clean_database(db_url, _tables_of(stage.out))
        return done
    finally:
        if lock is not None:
            lock.release()
        stage.release()


def _tables_of(out: Path) -> list[str]:
    """The tables a published run folder loaded (a plan: every area's)."""
    try:
        doc = json.loads((out / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    layouts = [f.get("layout") for f in doc.get("files") or []] or [
        (doc.get("schema") or {}).get("id")]
    return sorted({str(layout).split("/")[0] for layout in layouts if layout})
