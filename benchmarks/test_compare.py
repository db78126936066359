"""benchmarks/compare.py and benchmarks/scaling.py run end to end on tiny inputs and write every
figure, so CI proves they keep working (the figures themselves are not asserted: a 2 MB run
measures interpreter start-up more than anything)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def _run(script: str, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return subprocess.run([sys.executable, str(HERE / script), *args], capture_output=True,
                          text=True, env=env, timeout=300, check=False)


def _pg_url() -> str | None:
    url = os.environ.get("MIGRATE_TEST_PG_URL")
    return url if url and importlib.util.find_spec("psycopg") else None


def test_compare_writes_every_figure(tmp_path):
    out = tmp_path / "compare.json"
    args = ["--size-mb", "2", "--json", str(out), "--workers", "2"]
    pg = _pg_url()
    if pg:
        args += ["--pg-url", pg]
    done = _run("compare.py", *args)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(out.read_text())

    sys.path.insert(0, str(HERE))
    try:
        import compare
    finally:
        sys.path.remove(str(HERE))
    datacompy = os.environ.get("MIGRATE_DATACOMPY_PYTHON")
    expected = set(compare.STAGES) - (set() if pg else {"pg_load"}) \
        - (set() if datacompy else {"diff_datacompy"})
    for stage in expected:
        result = report["stages"][stage]
        for figure in compare.FIGURES:
            assert isinstance(result.get(figure), int | float), (stage, figure, result)
        assert result["seconds"] > 0 and result["peak_rss_mib"] > 0
    if not pg:
        assert "skipped" in report["stages"]["pg_load"]
    assert report["stages"]["floor"]["ratio_to_floor"] == 1.0
    assert report["input"]["rows"] == int(2e6 / 432)
    assert report["stages"]["e2e"]["rows"] == report["input"]["rows"]
    assert report["stages"]["naive"]["accepted"] == report["stages"]["e2e"]["accepted"]
    assert report["stages"]["e2e"]["database_skipped"] is True
    machine = report["machine"]
    for key in ("cores", "date", "cpu", "memory_gib"):
        assert machine[key], key
    assert machine["versions"]["python"] and machine["versions"]["polars"]
    targets = {t["target"]: t for t in report["targets"]}
    assert len(targets) == 11  # issue 7's seven, read+decode on all cores, issue 19's three
    assert isinstance(report["workers_gain"], float)
    assert report["stages"]["e2e_workers1"]["workers"] == 1
    assert 0 < report["stages"]["diff"]["rows"] <= report["input"]["rows"]  # fewer than 10^6
    assert report["stages"]["diff"]["changed_rows"] > 0
    for name, target in targets.items():
        if name.startswith("PostgreSQL") and not pg or name.startswith("diff") and not datacompy:
            assert target["status"] == "n/a"
        else:
            assert target["status"] in ("met", "not met"), target
    # the table went to stdout too
    assert "targets (issues 7 and 19)" in done.stdout and "floor" in done.stdout


@pytest.mark.parametrize("rows", [("1500", "3000")])
def test_scaling_writes_every_figure(tmp_path, rows):
    out = tmp_path / "scaling.json"
    done = _run("scaling.py", "--rows", *rows, "--json", str(out), "--dir", str(tmp_path / "w"))
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(out.read_text())
    assert [r["rows"] for r in report["series"]] == [int(r) for r in rows]
    for r in report["series"]:
        for key in ("seconds", "run_json_seconds", "mb_per_s", "rows_per_s", "peak_rss_mib",
                    "peak_tree_pss_mib", "time_per_row_ratio", "rss_ratio"):
            assert isinstance(r[key], int | float), (key, r)
    assert isinstance(report["verdicts"]["linear"], bool)
    assert isinstance(report["verdicts"]["flat"], bool)
    assert not list((tmp_path / "w").iterdir())  # each size cleaned up after its run
