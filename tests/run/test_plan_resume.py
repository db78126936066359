"""`migrate run migration.yaml --resume`: a plan SIGKILLed in the middle of its second file
continues — the first file's chunks and the second's finished chunks are replayed from their
journals, the rest converted — and every output file and every database row is the same as
after a plan run that was never interrupted. A changed input is refused (exit 2) and keeps the
journals; without --resume the leftovers are removed and the plan starts over."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from migrate.synth.sets import generate_set

ROWS = 6000  # juki.dat 2.6 MB and zeimu.dat 3 MB: 3 chunks of 1 MB each
KILL_AT = "zeimu:chunk-1"  # the second file of the plan, after its second chunk
AREAS = ("juki", "zeimu", "kokuho_setai", "kokuho", "kokuho_fuka")
VARYING = {"run.json", "report.html"}  # they hold the time and the run's length


def _plan(plan: Path, out: Path, *extra: str, env: dict | None = None
          ) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "migrate.cli", "run", str(plan), "--out", str(out),
         "--chunk-mb", "1", *extra], capture_output=True, text=True,
        env={**os.environ, "LANG": "C.UTF-8", **(env or {})})


@pytest.fixture(scope="module")
def plan_set(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("plan")
    generate_set(folder, ROWS, seed=5, defects=6)
    return folder


def _killed(plan: Path, out: Path, *extra: str) -> Path:
    """A plan run SIGKILLed after the second chunk of its second file; its staging folder."""
    done = _plan(plan, out, "--workers", "2", *extra, env={"MIGRATE_KILL_AT": KILL_AT})
    assert done.returncode == -signal.SIGKILL, done.stdout + done.stderr
    staged = list(out.parent.glob(f".{out.name}.staging-*"))
    assert len(staged) == 1
    assert (staged[0] / "juki" / ".parts" / "journal.jsonl").is_file()
    assert (staged[0] / "zeimu" / ".parts" / "journal.jsonl").is_file()
    return staged[0]


def _files(out: Path) -> dict[str, object]:
    """Every file of a plan's folder: its SHA-256, or for a workbook its cells (a workbook
    stores the time it was written), or for run.json what it reconciled."""
    import openpyxl

    found: dict[str, object] = {}
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        name = str(path.relative_to(out))
        if path.name == "migrate.db":
            continue  # its rows are compared
        if path.suffix == ".xlsx":
            book = openpyxl.load_workbook(path, read_only=True)
            found[name] = [list(sheet.values) for sheet in book.worksheets]
            book.close()
        elif path.name == "run.json":
            doc = json.loads(path.read_text(encoding="utf-8"))
            found[name] = doc.get("reconciliation") or [
                {k: v for k, v in f.items() if k != "resumed"} for f in doc["files"]]
        elif path.name not in VARYING:
            found[name] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            found[name] = None
    return found


def _rows(url: str) -> dict[str, list[str]]:
    """Every row of every table, in one order."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            names = sorted(sa.inspect(conn).get_table_names())
            return {name: sorted(repr(tuple(row)) for row in conn.execute(
                sa.select(sa.Table(name, sa.MetaData(), autoload_with=conn))))
                for name in names}
    finally:
        engine.dispose()


@pytest.mark.parametrize("database", ["inside", "postgresql"])
def test_a_killed_plan_resumes_to_the_same_files_and_rows(tmp_path, plan_set, database,
                                                          request):
    plan = plan_set / "migration.yaml"
    url = request.getfixturevalue("pg_url") if database == "postgresql" else None
    db = ["--db", url] if url else []
    whole = tmp_path / "whole"
    done = _plan(plan, whole, "--workers", "1", *db)
    assert done.returncode == 0, done.stdout + done.stderr
    expected = _files(whole), _rows(url or f"sqlite:///{whole / 'migrate.db'}")
    assert set(expected[1]) >= set(AREAS)

    out = tmp_path / "out"
    _killed(plan, out, *db)
    done = _plan(plan, out, "--workers", "1", "--resume", *db)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (_files(out), _rows(url or f"sqlite:///{out / 'migrate.db'}")) == expected
    doc = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert {f["name"]: f["resumed"]["chunks_reused"] for f in doc["files"]} == {
        "juki": 3, "zeimu": 2, "kokuho_setai": 0, "kokuho": 0, "kokuho_fuka": 0,
        "zeimu_shotoku": 0}
    assert not list(tmp_path.glob(".out.staging-*"))
    assert not list(out.rglob(".parts")) and not list(out.rglob("part-*"))
    checked = subprocess.run([sys.executable, "-m", "migrate.cli", "reconcile", str(out),
                              *db], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_a_changed_input_is_refused_and_without_resume_the_plan_starts_over(tmp_path,
                                                                            plan_set):
    folder = tmp_path / "set"
    shutil.copytree(plan_set, folder)
    plan = folder / "migration.yaml"
    out = tmp_path / "out"
    staged = _killed(plan, out, "--db", "none")
    original = (folder / "zeimu.dat").read_bytes()
    at = original.index(b"1", len(original) // 2)  # one digit of a record, framing intact
    (folder / "zeimu.dat").write_bytes(original[:at] + b"2" + original[at + 1:])
    refused = _plan(plan, out, "--db", "none", "--resume")
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "--resume refused: the input file changed" in refused.stdout + refused.stderr
    assert (staged / "zeimu" / ".parts" / "journal.jsonl").is_file(), "kept for a resume"
    assert not out.exists()
    (folder / "zeimu.dat").write_bytes(original)
    done = _plan(plan, out, "--db", "none")
    assert done.returncode == 0, done.stdout + done.stderr
    doc = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert all("resumed" not in f for f in doc["files"])
    assert not list(tmp_path.glob(".out.staging-*")) and not list(out.rglob(".parts"))
