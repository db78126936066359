"""Scaling series: `migrate run` end to end on growing inputs; is time linear, is memory flat?

    python benchmarks/scaling.py --rows 100000 1000000 10000000 [--json FILE] [--workers N]
                                 [--dir DIR] [--seed 7]

For each size: generate a vendor_a/juki file (432 bytes a record), run the `migrate run`
command on it in a fresh child process (CSV + Parquet + SQLite, as a user runs it), record the
wall time, the pipeline time from run.json, MB/s, the peak RSS of its largest process
(ru_maxrss) and the sampled peak of the summed PSS of all its processes; then delete that
size's files before the next one (10^7 rows is 4.3 GB of input and about 10 GB with outputs,
checked against the free space first).

Verdicts: time is linear when the pipeline time per row of every size is within 20% of the
smallest size's (interpreter start and imports are left out: they are a constant); memory is
flat when the largest peak is within 15% of the smallest (the issue's ±15%), both for the
largest process's ru_maxrss and for the all-process PSS (the latter only over runs of 5 s or
more, since it is sampled every 0.2 s).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from argparse import Namespace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import compare  # noqa: E402  (benchmarks/compare.py, beside this file)

LINEAR_TOLERANCE = 1.20
FLAT_TOLERANCE = 1.15
MIN_SAMPLED_SECONDS = 5.0
DISK_FACTOR = 2.8  # input + CSV + Parquet + SQLite + staging, measured on vendor_a/juki


def run_size(rows: int, directory: Path, workers: int | None, seed: int) -> dict:
    need = rows * compare.RECORD_BYTES * DISK_FACTOR
    free = shutil.disk_usage(directory).free
    if free < need:
        return {"rows": rows, "skipped": f"needs about {need / 1e9:.1f} GB free in "
                                          f"{directory}, has {free / 1e9:.1f} GB"}
    work = directory / f"rows-{rows}"
    work.mkdir(parents=True, exist_ok=True)
    try:
        started = time.perf_counter()
        input_path = compare.generate_input(work, rows, seed)
        generate_seconds = time.perf_counter() - started
        size = input_path.stat().st_size
        args = Namespace(workers=workers)
        result = compare.measure("e2e_cli", args, input_path, rows, work, [])
        result["rows"] = rows
        result["bytes"] = size
        result["generate_seconds"] = round(generate_seconds, 2)
        if "seconds" in result:
            result["mb_per_s"] = round(size / 1e6 / result["seconds"], 2)
            result["rows_per_s"] = round(rows / result["seconds"])
            result["us_per_row"] = round(result["seconds"] / rows * 1e6, 3)
            result["pipeline_us_per_row"] = round(result["run_json_seconds"] / rows * 1e6, 3)
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)


def verdicts(series: list[dict]) -> dict:
    done = [r for r in series if "pipeline_us_per_row" in r]
    if len(done) < 2:
        return {"linear": None, "flat": None}
    base = done[0]
    for r in done:
        r["time_per_row_ratio"] = round(r["pipeline_us_per_row"] / base["pipeline_us_per_row"],
                                        3)
        r["rss_ratio"] = round(r["peak_rss_mib"] / base["peak_rss_mib"], 3)
        r["pss_ratio"] = round(r["peak_tree_pss_mib"] / base["peak_tree_pss_mib"], 3) \
            if base["peak_tree_pss_mib"] else None
    worst_time = max(r["time_per_row_ratio"] for r in done)
    rss = [r["peak_rss_mib"] for r in done]
    # The all-process PSS is sampled every 0.2 s: only runs of a few seconds are judged on it.
    pss = [r["peak_tree_pss_mib"] for r in done if r["run_json_seconds"] >= MIN_SAMPLED_SECONDS]
    rss_spread = max(rss) / min(rss)
    pss_spread = max(pss) / min(pss) if len(pss) >= 2 and min(pss) > 0 else None
    return {
        "linear": worst_time <= LINEAR_TOLERANCE,
        "worst_time_per_row_ratio": worst_time,
        "flat": rss_spread <= FLAT_TOLERANCE and (pss_spread is None
                                                  or pss_spread <= FLAT_TOLERANCE),
        "rss_spread": round(rss_spread, 3),
        "pss_spread": round(pss_spread, 3) if pss_spread else None,
        "tolerances": {"time_per_row": LINEAR_TOLERANCE, "memory": FLAT_TOLERANCE},
    }


def print_table(report: dict) -> None:
    machine = report["machine"]
    print(f"\nmigrate scaling — `migrate run` end to end, {machine['usable_cores']} cores "
          f"({machine['cpu'] or 'cpu ?'}), workers {report['workers'] or 'default'}, "
          f"{machine['date']}")
    header = f"{'rows':>12} {'MB':>8} {'seconds':>9} {'pipeline s':>11} {'CPU s':>7} {'MB/s':>7} " \
             f"{'µs/row':>8} {'× smallest':>10} {'peak RSS MiB':>13} {'all procs':>10}"
    print(header)
    print("-" * len(header))
    for r in report["series"]:
        if "seconds" not in r:
            print(f"{r['rows']:>12,} {r.get('skipped') or 'failed: ' + r.get('error', '')}")
            continue
        print(f"{r['rows']:>12,} {r['bytes'] / 1e6:>8,.0f} {r['seconds']:>9.2f} "
              f"{r['run_json_seconds']:>11.2f} {r.get('cpu_seconds', 0):>7.1f} "
              f"{r['mb_per_s']:>7.1f} "
              f"{r['pipeline_us_per_row']:>8.2f} {r.get('time_per_row_ratio', ''):>10} "
              f"{r['peak_rss_mib']:>13,.0f} {r['peak_tree_pss_mib']:>10,.0f}")
    v = report["verdicts"]
    if v["linear"] is not None:
        print(f"\ntime linear: {'yes' if v['linear'] else 'no'} (worst pipeline time per row "
              f"= {v['worst_time_per_row_ratio']}× the smallest; tolerance "
              f"{LINEAR_TOLERANCE}×)")
        print(f"memory flat: {'yes' if v['flat'] else 'no'} (peak RSS spread "
              f"{v['rss_spread']}×, all-process PSS spread {v['pss_spread']}×; tolerance "
              f"{FLAT_TOLERANCE}×)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000, 10_000_000])
    parser.add_argument("--json", type=Path)
    parser.add_argument("--workers", type=int, help="passed to migrate run when it has it")
    parser.add_argument("--dir", type=Path, help="where to put the files (default: a "
                        "temporary folder); each size is deleted after its run")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    workers = args.workers
    notes = []
    if workers and not compare.cli_supports_workers():
        notes.append(f"--workers {workers} ignored: this migrate run has no --workers option")
        workers = None
    load_before = os.getloadavg()
    directory = args.dir or Path(tempfile.mkdtemp(prefix="migrate-scaling-"))
    directory.mkdir(parents=True, exist_ok=True)
    series = []
    try:
        for rows in sorted(args.rows):
            print(f"{rows:,} rows", file=sys.stderr, flush=True)
            series.append(run_size(rows, directory, workers, args.seed))
    finally:
        if not args.dir:
            shutil.rmtree(directory, ignore_errors=True)
    notes.append("seconds: wall time of `migrate run` (interpreter start and imports "
                 "included); pipeline s: run.json seconds (read → write, without the "
                 "reconciliation re-counts); linearity is judged on the pipeline time")
    report = {"machine": compare.machine_facts(workers, load_before), "workers": workers,
              "mapping": compare.MAPPING, "series": series, "verdicts": verdicts(series),
              "notes": notes}
    print_table(report)
    for note in notes:
        print(f"note: {note}")
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
        print(f"\nwrote {args.json}")
    return 1 if any("error" in r for r in series) else 0


if __name__ == "__main__":
    sys.exit(main())
