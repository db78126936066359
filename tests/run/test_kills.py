"""SIGKILL `migrate run` at every step of its publish, and at moments spread over a whole run:
OUT is always the previous complete result or the new complete one — never a mix — once
`migrate reconcile` has settled what the dead run left, and its files and database agree.

Each case starts from OUT holding a complete result of export A and kills a run of a newer
export B into it. With the default database (SQLite inside OUT) and with a database outside
OUT (where the tables and the folder are two publish steps, joined by the roll-forward marker).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from migrate.layouts import load_mapping
from migrate.synth.generate import generate

pytestmark = pytest.mark.kills  # CI's second pass (the lowest versions) leaves them out

ROWS = 1500
STEPS = ("staged", "marked", "tables-published", "exchanged")
# Moments spread over a run, as fractions of its measured length (CI: a reduced count).
MOMENTS = (0.1, 0.3, 0.5, 0.7, 0.85, 0.95, 1.05)


def _migrate(*args: str, env: dict | None = None, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "migrate.cli", *args], capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, **kwargs)


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> dict:
    """Two exports of one town (A, then a newer B with other people) and OUT after A."""
    base = tmp_path_factory.mktemp("kills")
    mapping = load_mapping("vendor_a/juki")
    generate(mapping, base / "a.dat", ROWS, seed=1, defects=5)
    generate(mapping, base / "b.dat", ROWS + 500, seed=2, defects=5)
    made = {}
    for kind, db in (("default", None), ("external", base / "external-a.db")):
        out = base / f"template-{kind}"
        args = ["run", str(base / "a.dat"), "-m", "vendor_a/juki", "--out", str(out),
                "--workers", "1"]
        if db:
            args += ["--db", f"sqlite:///{db}"]
        done = _migrate(*args)
        assert done.returncode == 0, done.stderr
        made[kind] = (out, db)
    started = time.perf_counter()
    assert _migrate("run", str(base / "b.dat"), "-m", "vendor_a/juki", "--out",
                    str(base / "timing"), "--workers", "1").returncode == 0
    return {"base": base, "made": made, "seconds": time.perf_counter() - started,
            "a": _input_sha(made["default"][0]), "b": _input_sha(base / "timing")}


def _input_sha(out: Path) -> str:
    return json.loads((out / "run.json").read_text(encoding="utf-8"))["input"]["sha256"]


def _case(exports: dict, kind: str, tmp_path: Path) -> tuple[Path, Path | None]:
    template, db = exports["made"][kind]
    out = tmp_path / "out"
    shutil.copytree(template, out)
    if db is None:
        return out, None
    copy = tmp_path / "town.db"
    shutil.copyfile(db, copy)
    return out, copy


def _run_b(exports: dict, out: Path, db: Path | None, env: dict | None = None
           ) -> subprocess.Popen:
    args = [sys.executable, "-m", "migrate.cli", "run", str(exports["base"] / "b.dat"), "-m",
            "vendor_a/juki", "--out", str(out), "--workers", "2", "--chunk-mb", "1"]
    if db:
        args += ["--db", f"sqlite:///{db}"]
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, **(env or {})}, start_new_session=True)


def _settled(exports: dict, out: Path, db: Path | None) -> str:
    """After the kill: `migrate reconcile` settles and checks OUT; which export it holds."""
    args = ["reconcile", str(out)] + (["--db", f"sqlite:///{db}"] if db else [])
    done = _migrate(*args)
    assert done.returncode == 0, done.stdout + done.stderr
    assert not list(out.parent.glob(".out.staging-*")), "a staging folder was left behind"
    assert not list(out.parent.glob(".out.previous-*"))
    assert not (out / ".publishing").exists()
    holds = _input_sha(out)
    assert holds in (exports["a"], exports["b"])
    doc = json.loads((out / "run.json").read_text(encoding="utf-8"))
    database = db or out / "migrate.db"
    with sqlite3.connect(database) as conn:
        rows = conn.execute("SELECT COUNT(*) FROM juki").fetchone()[0]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert rows == doc["reconciliation"]["rows"]
    assert tables == {"juki", "migrate_columns"}, "staging tables were left in the database"
    return holds


def _no_process_left(group: int) -> None:
    """Every process of the killed run's group ends (workers follow their parent)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.killpg(group, signal.SIGKILL)
    pytest.fail("processes of the killed run were still alive 30 s after it died")


# The default database is published with the folder: it has no table steps of its own.
CASES = [("default", "staged"), ("default", "exchanged"), *(("external", s) for s in STEPS)]


@pytest.mark.parametrize(("kind", "step"), CASES)
def test_a_kill_at_each_publish_step(exports, tmp_path, kind, step):
    out, db = _case(exports, kind, tmp_path)
    run = _run_b(exports, out, db, env={"MIGRATE_KILL_AT": step})
    assert run.wait(timeout=300) == -signal.SIGKILL
    _no_process_left(run.pid)
    holds = _settled(exports, out, db)
    # before the tables are published the old result stays; after, the new one is rolled forward
    expected = exports["a"] if step in ("staged", "marked") else exports["b"]
    assert holds == expected


@pytest.mark.parametrize("kind", ["default", "external"])
def test_kills_at_moments_spread_over_a_run(exports, tmp_path, kind):
    seen = set()
    for i, fraction in enumerate(MOMENTS):
        case = tmp_path / str(i)
        case.mkdir()
        out, db = _case(exports, kind, case)
        run = _run_b(exports, out, db)
        time.sleep(exports["seconds"] * fraction)
        run.send_signal(signal.SIGKILL)  # the main process only: its workers must follow
        run.wait(timeout=300)
        _no_process_left(run.pid)
        seen.add(_settled(exports, out, db))
        # and the next run into the same OUT works and publishes B
        args = ["run", str(exports["base"] / "b.dat"), "-m", "vendor_a/juki", "--out", str(out),
                "--workers", "1"] + (["--db", f"sqlite:///{db}"] if db else [])
        if i == 0:
            assert _migrate(*args).returncode == 0
            assert _settled(exports, out, db) == exports["b"]
    assert exports["a"] in seen  # the moments reached both sides of the publish
