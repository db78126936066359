"""No orphans: the worker processes of a run end when `migrate run` dies, even by SIGKILL.

A real `migrate run` is started on a generated file big enough for several chunks, the test waits
until its worker processes exist and are working, kills the parent with SIGKILL (no cleanup code
runs) and then polls, with a deadline, until every process that descended from it is gone.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

DEADLINE = 60.0  # seconds the workers get to notice (a generous bound, not a speed assertion)


@pytest.fixture(scope="module")
def big_input(tmp_path_factory) -> Path:
    """60,000 resident records, 26 MB: 25 chunks of 1 MB, so a pool of 2 workers is used and
    the run lasts long enough (several seconds) for the workers to be killed at work."""
    path = tmp_path_factory.mktemp("orphans") / "juki.dat"
    subprocess.run([sys.executable, "-m", "migrate.cli", "generate", "-m", "vendor_a/juki",
                    "--rows", "60000", "--out", str(path)], check=True, capture_output=True)
    return path


def _until(condition, what: str, timeout: float = DEADLINE):
    """Poll `condition` until it returns something truthy; fail with `what` at the deadline."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        found = condition()
        if found:
            return found
        time.sleep(0.05)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


def _alive(processes: list[psutil.Process]) -> list[psutil.Process]:
    alive = []
    for process in processes:
        try:
            if process.status() != psutil.STATUS_ZOMBIE:
                alive.append(process)
        except psutil.NoSuchProcess:
            pass
    return alive


@pytest.mark.parametrize("engine", ["local", "dask"])
def test_workers_end_when_the_run_is_killed(tmp_path, big_input, engine):
    env = {**os.environ, "LANG": "C.UTF-8"}
    # the local engine's main process is a worker too: --workers 3 spawns two processes
    workers = "3" if engine == "local" else "2"
    command = [sys.executable, "-m", "migrate.cli", "run", str(big_input), "-m", "vendor_a/juki",
               "-o", str(tmp_path / "out"), "--db", "none", "--chunk-mb", "1", "--workers",
               workers, "--engine", engine]
    parent = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    me = psutil.Process(parent.pid)
    try:
        def working() -> list[psutil.Process]:
            """The run's worker processes once at least two have used CPU time (started)."""
            if parent.poll() is not None:
                pytest.fail(f"migrate run ended (exit {parent.returncode}) before the kill")
            children = me.children(recursive=True)
            busy = [c for c in _alive(children) if _cpu(c) > 0.3]
            return children if len(busy) >= 2 else []

        workers = _until(working, "two worker processes at work")
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
        # any process started between the listing and the kill belongs to the session too
        workers += [p for p in psutil.process_iter() if _session(p) == parent.pid]
        _until(lambda: not _alive(workers), "the workers to end after SIGKILL of their parent")
    finally:
        for process in _alive([me, *me.children(recursive=True)] if parent.poll() is None
                              else []):
            process.kill()
        for process in psutil.process_iter():  # never leave a process behind, pass or fail
            if _session(process) == parent.pid:
                process.kill()


def _cpu(process: psutil.Process) -> float:
    try:
        times = process.cpu_times()
        return times.user + times.system
    except psutil.NoSuchProcess:
        return 0.0


def _session(process: psutil.Process) -> int | None:
    try:
        return os.getsid(process.pid)
    except (ProcessLookupError, PermissionError):
        return None


@pytest.mark.parametrize("engine", ["local", "dask"])
def test_no_process_outlives_a_run_that_ends(tmp_path, big_input, engine):
    """A run with two workers that ends normally leaves nothing in its session: not the pool's
    workers, not multiprocessing's resource tracker, not a Dask nanny (issue 19 found processes
    still alive in the process group after `migrate run --workers 2` had exited). The tracker
    is stopped after the run's semaphores were let go, so it warns of no leak. stderr goes to a
    file: the tracker shares it, and a pipe would only end once the tracker had."""
    env = {**os.environ, "LANG": "C.UTF-8"}
    command = [sys.executable, "-m", "migrate.cli", "run", str(big_input), "-m", "vendor_a/juki",
               "-o", str(tmp_path / "out"), "--db", "none", "--chunk-mb", "4", "--workers", "2",
               "--engine", engine]
    with open(tmp_path / "stderr", "wb") as stderr:
        parent = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=stderr,
                                  start_new_session=True)
    try:
        parent.wait(timeout=600)
        left = [p for p in psutil.process_iter() if _session(p) == parent.pid]
        assert not _alive(left), [(p.pid, p.cmdline()) for p in _alive(left)]
        err = (tmp_path / "stderr").read_bytes()
        assert parent.returncode == 0, err
        assert b"leaked" not in err and b"resource_tracker" not in err  # it ended cleanly
    finally:
        for process in psutil.process_iter():
            if _session(process) == parent.pid:
                process.kill()
