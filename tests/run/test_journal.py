"""`migrate run --resume`: a run killed after some chunks were journaled continues from them, and
its result is byte-identical to a run that was never interrupted; a changed input or mapping is
refused (exit 2) and leaves the interrupted run's journal as it was."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from migrate.layouts import load_mapping
from migrate.synth.generate import generate

ROWS = 8000  # 3.5 MB: 4 chunks of 1 MB
OUTPUTS = ("juki.csv", "juki.parquet", "rejects.csv", "warnings.csv")


def _migrate(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "migrate.cli", *args], capture_output=True,
                          text=True, env={**os.environ, "LANG": "C.UTF-8", **(env or {})})


def _run(source: Path, out: Path, *extra: str, env: dict | None = None
         ) -> subprocess.CompletedProcess:
    return _migrate("run", str(source), "-m", "vendor_a/juki", "--out", str(out), "--chunk-mb",
                    "1", *extra, env=env)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("resume")
    source = base / "juki.dat"
    generate(load_mapping("vendor_a/juki"), source, ROWS, seed=3, defects=30)
    out = base / "whole"
    done = _run(source, out, "--db", "none", "--workers", "1")
    assert done.returncode == 0, done.stderr
    return source, out


def _killed(source: Path, out: Path, *extra: str) -> None:
    """A run SIGKILLed right after its second chunk was journaled."""
    done = _run(source, out, "--workers", "2", *extra, env={"MIGRATE_KILL_AT": "chunk-1"})
    assert done.returncode == -signal.SIGKILL, done.stderr
    staged = list(out.parent.glob(f".{out.name}.staging-*"))
    assert len(staged) == 1 and (staged[0] / ".parts" / "journal.jsonl").is_file()


def test_a_resumed_run_is_byte_identical_to_an_uninterrupted_one(tmp_path, uninterrupted):
    source, whole = uninterrupted
    out = tmp_path / "out"
    _killed(source, out, "--db", "none")
    done = _run(source, out, "--db", "none", "--workers", "1", "--resume")
    assert done.returncode == 0, done.stdout + done.stderr
    for name in OUTPUTS:
        assert sha(out / name) == sha(whole / name), name
    doc = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert doc["resumed"] == {"chunks_reused": 2, "chunks": 4}
    assert doc["reconciliation"] == json.loads(
        (whole / "run.json").read_text(encoding="utf-8"))["reconciliation"]
    assert not list(tmp_path.glob(".out.staging-*"))
    assert not list(out.rglob("part-*")) and not (out / ".parts").exists()


def test_a_resumed_run_loads_the_database_and_reconciles(tmp_path, uninterrupted):
    source, whole = uninterrupted
    out = tmp_path / "out"
    _killed(source, out)
    done = _run(source, out, "--workers", "2", "--resume")
    assert done.returncode == 0, done.stdout + done.stderr
    assert sha(out / "juki.csv") == sha(whole / "juki.csv")
    checked = _migrate("reconcile", str(out))
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_resume_refuses_a_changed_input_and_keeps_the_journal(tmp_path, uninterrupted):
    source, whole = uninterrupted
    out = tmp_path / "out"
    _killed(source, out, "--db", "none")
    other = tmp_path / "other.dat"
    generate(load_mapping("vendor_a/juki"), other, ROWS, seed=4)
    refused = _run(other, out, "--db", "none", "--resume")
    assert refused.returncode == 2
    assert "--resume refused: the input file changed" in refused.stderr + refused.stdout
    assert list(tmp_path.glob(".out.staging-*")), "the journal must stay for a right resume"
    done = _run(source, out, "--db", "none", "--resume")
    assert done.returncode == 0, done.stdout + done.stderr
    assert sha(out / "juki.csv") == sha(whole / "juki.csv")
    doc = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert doc["resumed"]["chunks_reused"] == 2


def test_without_resume_the_leftovers_are_removed_and_the_run_starts_over(
        tmp_path, uninterrupted):
    source, whole = uninterrupted
    out = tmp_path / "out"
    _killed(source, out, "--db", "none")
    done = _run(source, out, "--db", "none")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "resumed" not in json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert sha(out / "juki.csv") == sha(whole / "juki.csv")
    assert not list(tmp_path.glob(".out.staging-*"))
