"""`migrate batch`: many migrations, each into its own folder with its own publish point, and
a batch report that sums them; locally, and as tasks on a 2-worker Dask LocalCluster."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from migrate.errors import LayoutError
from migrate.layouts.batch import load_batch
from migrate.run.batch import run_batch
from migrate.synth.generate import generate
from migrate.synth.sets import generate_set


@pytest.fixture(scope="module")
def towns(tmp_path_factory, juki_mapping) -> Path:
    """A batch of two towns' plans, one resident file, and one run whose input is missing."""
    root = tmp_path_factory.mktemp("towns")
    generate_set(root / "nagai", 300, seed=1, defects=3)
    generate_set(root / "sakata", 200, seed=2)
    generate(juki_mapping, root / "tsuruoka.dat", 250, seed=3, defects=4)
    (root / "towns.yaml").write_text(
        "batch: 移行リハーサル\n"
        "runs:\n"
        "  - {name: nagai, plan: nagai/migration.yaml}\n"
        "  - {name: sakata, plan: sakata/migration.yaml}\n"
        "  - {name: tsuruoka, mapping: vendor_a/juki, input: tsuruoka.dat, db: none}\n"
        "  - {name: missing, mapping: vendor_a/juki, input: nowhere.dat}\n",
        encoding="utf-8")
    return root / "towns.yaml"


def _run_document(folder: Path) -> dict:
    return json.loads((folder / "run.json").read_text(encoding="utf-8"))


def _check_report(result, out: Path) -> dict:
    document = json.loads((out / "batch.json").read_text(encoding="utf-8"))
    runs = {r["name"]: r for r in document["runs"]}
    assert [r["name"] for r in document["runs"]] == ["nagai", "sakata", "tsuruoka", "missing"]
    for name in ("nagai", "sakata"):
        plan = _run_document(out / name)
        assert runs[name]["status"] == "reconciled" and runs[name]["files"] == len(plan["files"])
        assert runs[name]["accepted"] == sum(f["accepted"] for f in plan["files"])
        assert (out / name / "migrate.db").is_file()  # each run its own database
    single = _run_document(out / "tsuruoka")
    assert runs["tsuruoka"]["rejected"] == single["reconciliation"]["rejected"] > 0
    assert runs["missing"]["status"] == "error" and runs["missing"]["exit_code"] == 2
    assert not (out / "missing").exists()  # nothing published for a run that could not run
    totals = document["totals"]
    assert totals["runs"] == 4 and totals["reconciled"] == 3 and totals["errors"] == 1
    for key in ("records_read", "accepted", "rejected", "rows", "files"):
        assert totals[key] == sum(r[key] for r in document["runs"])
    assert document["exit_code"] == result.exit_code == 2
    return document


def test_a_batch_runs_every_migration_into_its_own_folder(towns, tmp_path):
    out = tmp_path / "out"
    result = run_batch(load_batch(towns), out, workers=1)
    _check_report(result, out)


def test_a_batch_on_a_two_worker_dask_cluster_writes_the_same_outputs(towns, tmp_path):
    pytest.importorskip("distributed")
    local, dask = tmp_path / "local", tmp_path / "dask"
    run_batch(load_batch(towns), local, workers=1)
    result = run_batch(load_batch(towns), dask, engine="dask", workers=2)
    document = _check_report(result, dask)
    assert document["engine"] == "dask"
    for name in ("nagai/juki/juki.csv", "sakata/zeimu/zeimu.csv", "tsuruoka/juki.csv",
                 "tsuruoka/rejects.csv"):
        assert (dask / name).read_bytes() == (local / name).read_bytes(), name


@pytest.mark.parametrize("text,message", [
    ("runs: []\n", "'runs' must be a non-empty list"),
    ("runs:\n  - {name: a, plan: x.yaml, mapping: vendor_a/juki}\n", "needs either plan"),
    ("runs:\n  - {name: a, mapping: vendor_a/juki, input: a.dat}\n"
     "  - {name: a, mapping: vendor_a/juki, input: b.dat}\n", "two runs of the batch"),
    ("runs:\n  - {name: ../up, mapping: vendor_a/juki, input: a.dat}\n", "not a safe name"),
    ("runs:\n  - {name: a, mapping: vendor_a/juki, input: a.dat, town: x}\n",
     "unknown key 'town'"),
])
def test_a_wrong_batch_file_is_refused_with_its_line(tmp_path, text, message):
    path = tmp_path / "towns.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(LayoutError, match=message) as refused:
        load_batch(path)
    assert refused.value.file == path


def test_migrate_batch_prints_a_summary_and_writes_batch_json(runner, tmp_path, juki_mapping):
    from migrate.cli import main

    generate(juki_mapping, tmp_path / "a.dat", 120, seed=5)
    (tmp_path / "towns.yaml").write_text(
        "runs:\n  - {name: a, mapping: vendor_a/juki, input: a.dat, db: none}\n",
        encoding="utf-8")
    result = runner.invoke(main, ["batch", str(tmp_path / "towns.yaml"), "--out",
                                  str(tmp_path / "out"), "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "Every run of the batch reconciled (1 runs)" in result.output
    assert "batch.json" in result.output
    document = json.loads((tmp_path / "out" / "batch.json").read_text(encoding="utf-8"))
    assert document["totals"]["records_read"] == 120
