"""benchmarks/handover.py (export, verify, diff rates and peak memory) runs end to end on a tiny
input, so CI proves it keeps working; the figures are not asserted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def test_handover_writes_every_figure(tmp_path):
    out = tmp_path / "handover.json"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(HERE.parent), env.get("PYTHONPATH"))
                                        if p)
    env.pop("MIGRATE_DATACOMPY_PYTHON", None)
    done = subprocess.run([sys.executable, str(HERE / "handover.py"), "--rows", "2000",
                           "--json", str(out)], capture_output=True, text=True, env=env,
                          timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(out.read_text())
    assert set(report["stages"]) == {"export", "export_parquet", "verify", "diff", "diff_csv"}
    for stage in report["stages"].values():
        assert stage["seconds"] > 0 and stage["peak_rss_mib"] > 0
    assert report["stages"]["verify"]["exit"] == 0 and report["stages"]["diff"]["exit"] == 1
    assert set(report["diff"]) == {"shimei_kana", "setai_order"}
