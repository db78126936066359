"""Rates and peak memory of the contract-end commands on one generated resident file.

    python benchmarks/handover.py --rows 1000000 --json out.json [--keep DIR]
                                  [--datacompy-python /path/to/venv/bin/python]

Generates vendor_a/juki with ROWS records, converts it (`migrate run`, files only), then times,
each in a fresh child process whose peak RSS is read from os.wait4 (its own, not the parent's):

  export        migrate export --from RUN --to PKG (CSV, UTF-8)
  export_parquet  the same with --format parquet (generated names hold characters outside
                cp932, such as 𠮷, so a cp932 export stops at the first one, as it must)
  verify        migrate verify PKG
  diff          migrate diff A B: A = the run's Parquet, B = a Parquet copy with 1% of the rows
                deleted, 1% added and 1% changed in two columns
  diff_csv      the same with B as CSV (typed by the layout while read)
  datacompy     datacompy.PolarsCompare(A, B, join_columns=atena_no).report() on the same two
                Parquet files, run by --datacompy-python (datacompy pins polars < 2, so it
                lives in a venv of its own; skipped without it)

Seconds are the child's wall time (interpreter start and imports included); rows/s counts the
rows of the run's output. The parent never loads data itself (B is written by a child too), so
the peak RSS Linux reports for each child is that child's own. Prints a table and writes the figures as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):
    sys.path.insert(0, str(ROOT))

DATACOMPY = """
import sys, time, polars as pl, datacompy
a, b = pl.read_parquet(sys.argv[1]), pl.read_parquet(sys.argv[2])
compare = datacompy.PolarsCompare(a, b, join_columns=["atena_no"])
compare.report()
print(compare.matches(), compare.df1_unq_rows.height, compare.df2_unq_rows.height)
"""


def _child(command: list[str], env: dict[str, str] | None = None) -> dict[str, float]:
    """Run a command; its wall seconds, exit code and own peak RSS (MiB)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               env=env)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        raise SystemExit(f"{command[:4]} failed ({code}): {stderr[-2000:]}")
    return {"seconds": round(seconds, 2), "exit": code, "peak_rss_mib": round(usage.ru_maxrss / 1024, 1)}


def _migrate(*args: str) -> list[str]:
    return [sys.executable, "-m", "migrate.cli", *args]


def _tampered(parquet: Path, out: Path, fmt: str) -> None:
    import polars as pl

    rows = pl.read_parquet(parquet)
    n = rows.height
    step = 100
    index = pl.int_range(pl.len())
    kept = rows.filter(index % step != 1)
    added = rows.filter(index % step == 2).with_columns(
        ("9" + pl.col("atena_no").str.slice(1)).alias("atena_no"))
    changed = kept.with_columns(
        pl.when(pl.int_range(pl.len()) % step == 3).then(pl.lit("ヘンコウ"))
        .otherwise(pl.col("shimei_kana")).alias("shimei_kana"),
        pl.when(pl.int_range(pl.len()) % step == 3).then(pl.col("setai_order") + 1)
        .otherwise(pl.col("setai_order")).alias("setai_order"))
    result = pl.concat([changed, added])
    if fmt == "parquet":
        result.write_parquet(out)
    else:
        result.write_csv(out)
    assert result.height > n * 0.98


def main(argv: list[str] | None = None) -> dict:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--tamper"]:
        _tampered(Path(argv[1]), Path(argv[2]), Path(argv[2]).suffix[1:])
        return {}
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--keep", type=Path, default=None)
    parser.add_argument("--datacompy-python", default=os.environ.get("MIGRATE_DATACOMPY_PYTHON"))
    args = parser.parse_args(argv)
    work = Path(args.keep or tempfile.mkdtemp(prefix="migrate-handover-"))
    work.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    try:
        legacy = work / "juki.dat"
        if not legacy.exists():
            subprocess.run(_migrate("generate", "-m", "vendor_a/juki", "--rows", str(args.rows),
                                    "--out", str(legacy), "--seed", "5"),
                           check=True, env=env, stdout=subprocess.DEVNULL)
        run = work / "run"
        if not (run / "run.json").exists():
            subprocess.run(_migrate("run", str(legacy), "-m", "vendor_a/juki", "--out", str(run),
                                    "--db", "none"), check=True, env=env,
                           stdout=subprocess.DEVNULL)
        document = json.loads((run / "run.json").read_text(encoding="utf-8"))
        rows = int(document["reconciliation"]["rows"])
        parquet = Path(document["outputs"]["parquet"]["path"])
        if not parquet.is_absolute():
            parquet = run / parquet
        for name in ("b.parquet", "b.csv"):
            if not (work / name).exists():  # in a child: the parent stays small (Linux carries
                # a parent's peak RSS over fork+exec into each child's ru_maxrss)
                subprocess.run([sys.executable, __file__, "--tamper", str(parquet),
                                str(work / name)], check=True, env=env)
        stages: dict[str, dict] = {}
        for name, extra in (("export", []), ("export_parquet", ["--format", "parquet"])):
            target = work / name
            shutil.rmtree(target, ignore_errors=True)
            stages[name] = _child(_migrate("export", "--from", str(run), "--to", str(target),
                                           *extra), env)
        stages["verify"] = _child(_migrate("verify", str(work / "export"), "--out",
                                           str(work / "verify.json")), env)
        for name, other in (("diff", "b.parquet"), ("diff_csv", "b.csv")):
            stages[name] = _child(_migrate("diff", str(parquet), str(work / other), "--layout",
                                           "juki/v1", "--out", str(work / name)), env)
        if args.datacompy_python:
            script = work / "datacompy_run.py"
            script.write_text(DATACOMPY)
            stages["datacompy"] = _child([args.datacompy_python, str(script), str(parquet),
                                          str(work / "b.parquet")])
        for stage in stages.values():
            stage["rows_per_s"] = round(rows / stage["seconds"]) if stage["seconds"] else None
        report = {"rows": rows, "cpus": os.cpu_count(), "stages": stages,
                  "diff": json.loads((work / "diff" / "diff.json").read_text())["changed"]
                  ["by_column"]}
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    print(f"{'stage':<14}{'seconds':>9}{'rows/s':>12}{'peak MiB':>10}")
    for name, stage in stages.items():
        print(f"{name:<14}{stage['seconds']:>9}{stage['rows_per_s'] or 0:>12,}"
              f"{stage['peak_rss_mib']:>10}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
