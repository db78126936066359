"""The one publish point (migrate.run.publishing, migrate.sinks.publish, migrate.sinks.swap):
a run that does not reconcile changes neither OUT nor the database, runs never share an OUT or
a database at once, and a plan re-run with a newer export replaces every table together."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from migrate.errors import UsageError
from migrate.layouts.plan import load_plan
from migrate.run.pipeline import RunOptions, run
from migrate.run.plan import run_plan
from migrate.run.publishing import DatabaseLock
from migrate.sinks.publish import Staging
from migrate.synth.generate import generate
from migrate.synth.sets import generate_set


def _rows(db: Path, table: str = "juki") -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


def _tables(db: Path) -> set[str]:
    """The tables of a SQLite file, the data dictionary (migrate_columns) aside."""
    with sqlite3.connect(db) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' "
                                           "AND name <> 'migrate_columns'")}


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


@pytest.mark.parametrize("cause", ["max_rejects", "trailer_count", "control_total"])
@pytest.mark.parametrize("external", [False, True])
def test_a_run_that_does_not_reconcile_changes_neither_out_nor_the_database(
        tmp_path, juki_mapping, external, cause):
    """Exit 1 — --max-rejects exceeded, a trailer count or a control total that disagrees:
    OUT and the table stay byte for byte as they were; the evidence is in OUT.failed-…"""
    old, new = tmp_path / "old.dat", tmp_path / "new.dat"
    generate(juki_mapping, old, 300, seed=1)
    generate(juki_mapping, new, 400, seed=2, defects=20 if cause == "max_rejects" else 0)
    if cause != "max_rejects":  # the trailer (record 401): its count, or its hash total
        raw = bytearray(new.read_bytes())
        at = 401 * juki_mapping.source.stride + (1 if cause == "trailer_count" else 10)
        raw[at:at + 1] = b"1" if raw[at:at + 1] != b"1" else b"2"
        new.write_bytes(bytes(raw))
    out = tmp_path / "out"
    db = tmp_path / "town.db" if external else out / "migrate.db"
    url = f"sqlite:///{db}" if external else None
    assert run(RunOptions(juki_mapping, old, out, db_url=url, workers=1)).exit_code == 0
    before, rows = _files(out), _rows(db)
    result = run(RunOptions(juki_mapping, new, out, db_url=url, workers=1,
                            max_rejects=1 if cause == "max_rejects" else None))
    assert result.exit_code == 1
    assert _files(out) == before and _rows(db) == rows == 300
    assert _tables(db) == {"juki"}  # the staging table is gone
    evidence = result.run_json.parent
    assert evidence.parent == tmp_path and evidence.name.startswith("out.failed-")
    document = json.loads(result.run_json.read_text())
    failed = {i["name"] for i in document["reconciliation"]["invariants"] if not i["ok"]}
    if cause == "max_rejects":
        assert document["max_rejects_exceeded"] is True
    else:
        assert failed == {"trailer_count" if cause == "trailer_count"
                          else "control_total_source:atena_no"}
    assert (evidence / "rejects.csv").is_file() and not (evidence / "juki.csv").exists()


def test_a_plan_rerun_with_a_newer_export_replaces_every_table(tmp_path):
    """The foreign key kokuho_setai → juki used to block the swap of juki: now the plan's
    tables are replaced together, and the second export's rows are what the database holds."""
    for name, seed, rows in (("first", 1, 1200), ("second", 2, 900)):
        generate_set(tmp_path / name, rows, seed=seed)
    out = tmp_path / "out"
    for name in ("first", "second"):
        result = run_plan(load_plan(tmp_path / name / "migration.yaml"), out, workers=1)
        assert result.exit_code == 0, name
        document = json.loads((out / "run.json").read_text(encoding="utf-8"))
        for f in document["files"]:
            assert _rows(out / "migrate.db", f["layout"].split("/")[0]) == f["rows"]
    assert {f["input_sha256"] for f in document["files"]} == {
        json.loads((out / f["name"] / "run.json").read_text())["input"]["sha256"]
        for f in document["files"]}
    assert _rows(out / "migrate.db") == 900 - document["files"][0]["rejected"]


def test_one_run_at_a_time_per_output_folder(tmp_path):
    first = Staging(tmp_path / "out")
    try:
        with pytest.raises(UsageError) as info:
            Staging(tmp_path / "out")
        assert "another run is writing" in str(info.value)
    finally:
        first.release()
    Staging(tmp_path / "out").release()  # free again once the first is done


def test_one_run_at_a_time_per_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'town.db'}"
    first = DatabaseLock(url)
    try:
        with pytest.raises(UsageError) as info:
            DatabaseLock(url)
        assert "another run is loading this database" in str(info.value)
    finally:
        first.release()
    DatabaseLock(url).release()


def test_the_output_must_be_a_folder(tmp_path, juki_mapping):
    (tmp_path / "taken").write_text("not a folder")
    with pytest.raises(UsageError) as info:
        run(RunOptions(juki_mapping, tmp_path / "x.dat", tmp_path / "taken"))
    assert "is not a folder" in str(info.value)


def test_a_dead_runs_staging_folder_is_removed_by_the_next_run(tmp_path, juki_mapping):
    source = tmp_path / "in.dat"
    generate(juki_mapping, source, 100, seed=1)
    leftover = tmp_path / ".out.staging-dead01"
    leftover.mkdir()
    (leftover / "juki.csv").write_text("partial personal data")
    assert run(RunOptions(juki_mapping, source, tmp_path / "out", workers=1)).exit_code == 0
    assert not leftover.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.lock", "in.dat",
                                                         "in.dat.defects.json", "out"]


@pytest.mark.parametrize("code", ["ENOSPC", "EROFS"])
def test_a_full_or_read_only_disk_is_exit_2_and_keeps_the_previous_result(
        tmp_path, juki_mapping, monkeypatch, code):
    import errno

    from migrate.run.parts import PartCsvSink
    from migrate.sinks.csv import CsvSink

    source = tmp_path / "in.dat"
    generate(juki_mapping, source, 200, seed=1)
    out = tmp_path / "out"
    assert run(RunOptions(juki_mapping, source, out, workers=1)).exit_code == 0
    before = _files(out)

    def full(self, frame):
        if code == "ENOSPC":  # as polars raises it: the text only, no errno
            raise OSError("No space left on device (os error 28)")
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(CsvSink, "write", full)
    monkeypatch.setattr(PartCsvSink, "write", full)  # the standard CSV, from the chunks' parts
    with pytest.raises(UsageError) as info:
        run(RunOptions(juki_mapping, source, out, workers=1))
    assert "cannot write the outputs" in str(info.value)
    assert ("disk of the output folder is full" in str(info.value)) == (code == "ENOSPC")
    assert _files(out) == before
    assert not list(tmp_path.glob(".out.staging-*"))


def test_a_database_file_named_inside_out_is_published_with_out(tmp_path, juki_mapping):
    """--db sqlite:///OUT/town.db lives in OUT, which is exchanged as a whole: the file must be
    in the staging folder too, or the exchange would throw it away."""
    from migrate.reconcile.verify_db import reconcile_out_dir

    old, new = tmp_path / "old.dat", tmp_path / "new.dat"
    generate(juki_mapping, old, 150, seed=1)
    generate(juki_mapping, new, 250, seed=2)
    out = tmp_path / "out"
    url = f"sqlite:///{out / 'town.db'}"
    for source, rows in ((old, 150), (new, 250)):
        result = run(RunOptions(juki_mapping, source, out, db_url=url, workers=1))
        assert result.exit_code == 0
        assert _rows(out / "town.db") == rows
        assert _tables(out / "town.db") == {"juki"}
        assert reconcile_out_dir(out, url).ok
    assert json.loads((out / "run.json").read_text())["database"]["url"] == url
