"""Side-by-side throughput of migrate and its references on one generated resident file.

    python benchmarks/compare.py --size-mb 1000 --json out.json [--workers N] [--keep DIR]
                                 [--pg-url postgresql+psycopg://…] [--stages floor,e2e,…]

Generates a vendor_a/juki file of about N MB (rows = N MB / 432 bytes, MB = 10^6 bytes) with
migrate.synth.generate.generate, then measures on that same file, each stage in a fresh child process
(so the peak RSS of a stage is its own: the child reports its VmHWM — not
getrusage(RUSAGE_SELF).ru_maxrss, which Linux carries over from the parent across fork+exec —
or getrusage(RUSAGE_CHILDREN).ru_maxrss when it only wraps the `migrate run` command; the parent
also samples the summed PSS of each stage's process tree, worker processes included):

  floor        read the file and decode it as cp932 once (record-aligned 32 MiB blocks,
               errors="replace": packed decimals are not text), nothing else
  naive        benchmarks/naive.py: the per-record, per-field Python loop (same juki.csv)
  read_fwf     pandas.read_fwf(encoding="cp932", colspecs from the mapping): counts
               characters, not bytes, so its columns are wrong after the first double-byte
               character; a speed reference only
  read_decode  migrate's FixedWidthReader + decode_field for every mapped field, no sinks
  read_decode_cores  the same per chunk in a process pool of all cores (as `migrate run`
               fans out), pool start-up included; only counts come back
  e2e          read→decode→map→validate→CSV+Parquet (+ reconciliation): migrate's Pipeline with
               db_url "none" (or, where the pipeline has no such option, the database sink
               replaced by a row counter): the issue's definition of e2e
  e2e_workers1 the same with --workers 1: against e2e (all cores, or --workers) it is the gain
               of the second core, a figure in every run (workers_gain)
  e2e_cli      the `migrate run` command as a user runs it (CSV + Parquet + SQLite database);
               wall time of the process, interpreter start and imports included
  sqlite_load  migrate.sinks.sql.SqlSink into a fresh SQLite file, fed with the rows of the
               Parquet file e2e wrote (read before the clock starts), in 32 MiB-sized chunks
  pg_load      the same into PostgreSQL (with --pg-url or MIGRATE_TEST_PG_URL), table
               bench_juki, dropped afterwards
  diff         `migrate diff A B --layout juki/v1` on two datasets of --diff-rows rows (default
               10^6; fewer when the input has fewer): A = the first rows of e2e's Parquet
               output, B = A with 1% deleted, 1% added and 1% changed in two columns
               (benchmarks/handover.py makes B); wall time of the command
  diff_datacompy  datacompy.PolarsCompare(A, B, join_columns=atena_no).report() on the same
               pair, run by --datacompy-python (datacompy pins polars < 2, so it lives in a
               venv of its own: python -m venv DIR && DIR/bin/pip install datacompy); wall time

Seconds are measured inside each child after its imports, except e2e_cli (process wall time).
MB/s is input megabytes per second for every stage (for the loads: the input those rows came
from); the ratio is a stage's MB/s divided by the floor's MB/s.  Prints a table and the issue's
targets with met / not met, and writes the same figures as JSON.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as a script from a source checkout
    sys.path.insert(0, str(ROOT))

RECORD_BYTES = 432  # vendor_a/juki: 430 bytes + CRLF
MAPPING = "vendor_a/juki"
BLOCK_BYTES = 32 * 1024 * 1024
GIB = 1024 ** 3
STAGES = ("floor", "naive", "read_fwf", "read_decode", "read_decode_cores", "e2e", "e2e_workers1",
          "e2e_cli", "sqlite_load", "pg_load", "diff", "diff_datacompy")
LABELS = {
    "floor": "floor: read + cp932 decode",
    "naive": "naive per-record loop",
    "read_fwf": "pandas.read_fwf (chars!)",
    "read_decode": "migrate read+decode",
    "read_decode_cores": "migrate read+decode, all cores",
    "e2e": "migrate e2e CSV+Parquet",
    "e2e_workers1": "migrate e2e, --workers 1",
    "e2e_cli": "migrate run CLI (+SQLite)",
    "sqlite_load": "SQLite load (SqlSink)",
    "pg_load": "PostgreSQL load (SqlSink)",
    "diff": "migrate diff A B",
    "diff_datacompy": "datacompy PolarsCompare A B",
}
FIGURES = ("seconds", "mb_per_s", "rows_per_s", "ratio_to_floor", "peak_rss_mib",
           "peak_tree_pss_mib")


def _peak_rss_mib(who: int = resource.RUSAGE_SELF) -> float:
    """Peak RSS in MiB: of this process (VmHWM), or of its largest waited-for child.

    Not RUSAGE_SELF: on Linux a process's ru_maxrss starts from its parent's RSS at fork and
    survives exec, so a child of a big parent would report the parent's size.  VmHWM is the
    high-water mark of this process's own address space.
    """
    if who == resource.RUSAGE_SELF:
        with contextlib.suppress(OSError, ValueError):
            for line in Path("/proc/self/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(who).ru_maxrss / 1024, 1)  # Linux: KiB


class TreeMemory:
    """Samples the summed PSS of a process and all its descendants (worker processes).

    ru_maxrss is per process: a run that fans out over worker processes costs the sum of them,
    which only sampling shows.  PSS shares pages mapped by several processes out fairly, so
    the libraries every worker maps are not counted once per worker.  It runs in the parent,
    so the measured process pays no GIL for it.
    """

    def __init__(self, root: int, interval: float = 0.25):
        import threading

        self.root = root
        self.interval = interval
        self.peak_kib = 0
        self.processes = 1
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @staticmethod
    def _children(pid: int) -> list[int]:
        """Children of a process, from /proc/PID/task/TID/children (cheap: no /proc scan)."""
        found = []
        with contextlib.suppress(OSError):
            for task in os.scandir(f"/proc/{pid}/task"):
                with contextlib.suppress(OSError, ValueError):
                    text = Path(f"/proc/{pid}/task/{task.name}/children").read_text()
                    found.extend(int(c) for c in text.split())
        return found

    def _tree(self, root: int) -> list[int]:
        found, todo = [root], [root]
        while todo:
            for child in self._children(todo.pop()):
                found.append(child)
                todo.append(child)
        return found

    @staticmethod
    def _pss_kib(pid: int) -> int:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    return int(line.split()[1])
        except (OSError, ValueError):
            pass
        return 0

    def _loop(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(Exception):
                pids = self._tree(self.root)
                self.processes = max(self.processes, len(pids))
                self.peak_kib = max(self.peak_kib, sum(self._pss_kib(p) for p in pids))
            self._stop.wait(self.interval)

    @property
    def peak_mib(self) -> float:
        return round(self.peak_kib / 1024, 1)


def _cpu_seconds() -> float:
    """User + system CPU time of this process and of its waited-for children (workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), \
        resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def migrate_command() -> list[str]:
    """How to start the `migrate` CLI with this interpreter (installed or from a checkout)."""
    return [sys.executable, "-m", "migrate.cli"]


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    env.setdefault("LANG", "C.UTF-8")
    return env


def cli_supports_workers() -> bool:
    """Whether `migrate run` has --workers (the parallel pipeline), asked via --help."""
    result = subprocess.run([*migrate_command(), "run", "--help"], capture_output=True,
                            text=True, env=child_env(), check=False)
    return "--workers" in result.stdout


# ---------------------------------------------------------------- stages (in the child)


def stage_floor(args: argparse.Namespace) -> dict:
    path = Path(args.input)
    stride = RECORD_BYTES
    block = BLOCK_BYTES // stride * stride  # record-aligned: no character is cut in two
    started = time.perf_counter()
    chars = replaced = 0
    with open(path, "rb") as handle:
        while data := handle.read(block):
            text = data.decode("cp932", errors="replace")
            chars += len(text)
            replaced += text.count("\ufffd")
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "rows": args.rows, "chars": chars, "replaced": replaced}


def stage_naive(args: argparse.Namespace) -> dict:
    import importlib.util

    from migrate.layouts import load_mapping

    spec = importlib.util.spec_from_file_location("naive", Path(__file__).with_name("naive.py"))
    naive = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(naive)
    convert = naive.convert

    mapping = load_mapping(MAPPING)
    started = time.perf_counter()
    result = convert(mapping, Path(args.input), Path(args.out))
    return {"seconds": time.perf_counter() - started, "rows": result["records"],
            "accepted": result["accepted"], "rejected": result["rejected"]}


def stage_read_fwf(args: argparse.Namespace) -> dict:
    import pandas as pd

    from migrate.layouts import load_mapping

    mapping = load_mapping(MAPPING)
    fields = sorted(mapping.fields.values(), key=lambda f: f.offset)
    colspecs = [(f.offset, f.end) for f in fields]
    names = [f.name for f in fields]
    started = time.perf_counter()
    rows = 0
    reader = pd.read_fwf(args.input, colspecs=colspecs, names=names, header=None,
                         encoding="cp932", encoding_errors="replace", dtype=str,
                         keep_default_na=False, chunksize=BLOCK_BYTES // RECORD_BYTES)
    with reader:
        for frame in reader:
            rows += len(frame)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "rows": rows,
            "pandas": pd.__version__, "rows_parsed": rows}


def _used_fields(mapping) -> list[str]:
    names = {cm.source for cm in mapping.columns if cm.kind == "field"}
    if mapping.trailer:
        names |= set(mapping.trailer.control_totals)
    return sorted(names, key=lambda n: mapping.fields[n].offset)


def stage_read_decode(args: argparse.Namespace) -> dict:
    from migrate.layouts import load_mapping
    from migrate.read.fixed import DATA, FixedWidthReader
    from migrate.transform.mapper import decode_field

    mapping = load_mapping(MAPPING)
    used = [mapping.fields[name] for name in _used_fields(mapping)]
    started = time.perf_counter()
    rows = errors = 0
    reader = FixedWidthReader(Path(args.input), mapping.source)
    for chunk in reader.chunks():
        records = chunk.records[chunk.kinds == DATA]
        rows += len(records)
        for spec in used:
            result = decode_field(spec, records[:, spec.offset:spec.end], mapping.source)
            errors += len(result.errors) - result.errors.null_count()
    return {"seconds": time.perf_counter() - started, "rows": rows, "field_errors": errors,
            "fields": len(used)}


_DECODE_STATE: dict = {}


def _decode_worker_init(input_path: str) -> None:
    from migrate.layouts import load_mapping
    from migrate.read.fixed import FixedWidthReader

    mapping = load_mapping(MAPPING)
    _DECODE_STATE.update(mapping=mapping, reader=FixedWidthReader(Path(input_path),
                                                                  mapping.source),
                         used=[mapping.fields[name] for name in _used_fields(mapping)])


def _decode_chunk(first: int, n: int) -> tuple[int, int]:
    from migrate.read.fixed import DATA
    from migrate.transform.mapper import decode_field

    chunk = _DECODE_STATE["reader"].read_chunk(first, n)
    records = chunk.records[chunk.kinds == DATA]
    errors = 0
    for spec in _DECODE_STATE["used"]:
        result = decode_field(spec, records[:, spec.offset:spec.end],
                              _DECODE_STATE["mapping"].source)
        errors += len(result.errors) - result.errors.null_count()
    return len(records), errors


def stage_read_decode_cores(args: argparse.Namespace) -> dict:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from migrate.layouts import load_mapping
    from migrate.read.fixed import FixedWidthReader
    from migrate.run.options import default_workers

    started = time.perf_counter()
    plan = FixedWidthReader(Path(args.input), load_mapping(MAPPING).source).plan()
    workers = max(1, min(default_workers(), len(plan)))
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                             initializer=_decode_worker_init, initargs=(args.input,)) as pool:
        counts = list(pool.map(_decode_chunk, *zip(*plan, strict=True)))
    return {"seconds": time.perf_counter() - started, "rows": sum(c[0] for c in counts),
            "field_errors": sum(c[1] for c in counts), "workers": workers}


class _CountingSink:
    """Stands in for the database sink in `e2e`: counts the rows, stores nothing."""

    url = None  # not a database: nothing to verify afterwards

    def __init__(self, url: str, schema) -> None:
        self.name = "database"
        self.rows = 0

    def write(self, frame) -> None:
        self.rows += frame.height

    def commit(self) -> None: ...

    def abort(self) -> None: ...

    def close(self) -> None: ...

    def count(self) -> int:
        return self.rows

    def outputs(self) -> list[Path]:
        return []


def stage_e2e(args: argparse.Namespace) -> dict:
    import dataclasses
    import inspect

    import migrate.run.pipeline as pipeline
    from migrate.layouts import load_mapping

    mapping = load_mapping(MAPPING)
    out = Path(args.out)
    db_url = f"sqlite:///{out / 'e2e.db'}"
    patched = False
    if '"none"' in inspect.getsource(pipeline):  # the pipeline can leave the database out
        db_url = "none"
    elif hasattr(pipeline, "SqlSink"):
        pipeline.SqlSink = _CountingSink
        patched = True
    kwargs = {}
    fields = {f.name for f in dataclasses.fields(pipeline.RunOptions)}
    if args.workers and "workers" in fields:
        kwargs["workers"] = args.workers
    options = pipeline.RunOptions(mapping, Path(args.input), out, db_url=db_url, **kwargs)
    started = time.perf_counter()
    result = pipeline.run(options)
    seconds = time.perf_counter() - started
    wrote_db = (out / "e2e.db").exists()
    return {"seconds": seconds, "rows": result.ledger.data_read,
            "accepted": result.ledger.accepted, "rejected": result.ledger.rejected,
            "exit_code": result.exit_code, "workers": kwargs.get("workers"),
            "database_skipped": (db_url == "none" or patched) and not wrote_db,
            "database_left_out_by": "--db none" if db_url == "none" else
            "counting sink" if patched else None,
            "run_json_seconds": json.loads(result.run_json.read_text())["seconds"]}


def stage_e2e_workers1(args: argparse.Namespace) -> dict:
    args.workers = 1
    return stage_e2e(args)


def diff_pair(parquet: Path, rows: int, work: Path) -> tuple[Path, Path]:
    """A = the first `rows` rows of a run's Parquet output, B = A tampered (1% deleted, added,
    changed) by benchmarks/handover.py, in a child process (the parent stays small)."""
    a, b = work / "diff_a.parquet", work / "diff_b.parquet"
    code = ("import sys, polars as pl; pl.scan_parquet(sys.argv[1]).head(int(sys.argv[2]))"
            ".sink_parquet(sys.argv[3])")
    subprocess.run([sys.executable, "-c", code, str(parquet), str(rows), str(a)],
                   env=child_env(), check=True)
    subprocess.run([sys.executable, str(Path(__file__).with_name("handover.py")), "--tamper",
                    str(a), str(b)], env=child_env(), check=True)
    return a, b


def _wall(command: list[str]) -> tuple[float, subprocess.CompletedProcess]:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=child_env(),
                          check=False)
    return time.perf_counter() - started, done


def stage_diff(args: argparse.Namespace) -> dict:
    a, b = args.diff_pair.split(",")
    seconds, done = _wall([*migrate_command(), "diff", a, b, "--layout", "juki/v1", "--out",
                           str(Path(args.out) / "diff")])
    if done.returncode not in (0, 1):
        raise RuntimeError(f"migrate diff exited {done.returncode}: {done.stderr[-2000:]}")
    report = json.loads((Path(args.out) / "diff" / "diff.json").read_text())
    return {"seconds": seconds, "rows": args.diff_rows, "exit_code": done.returncode,
            "changed_rows": report["changed"]["count"],
            "peak_rss_mib": _peak_rss_mib(resource.RUSAGE_CHILDREN)}


def stage_diff_datacompy(args: argparse.Namespace) -> dict:
    import importlib.util

    spec = importlib.util.spec_from_file_location("handover", Path(__file__).with_name(
        "handover.py"))
    handover = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(handover)
    script = Path(args.out) / "datacompy_run.py"
    script.write_text(handover.DATACOMPY)
    a, b = args.diff_pair.split(",")
    seconds, done = _wall([args.datacompy_python, str(script), a, b])
    if done.returncode != 0:
        raise RuntimeError(f"datacompy exited {done.returncode}: {done.stderr[-2000:]}")
    return {"seconds": seconds, "rows": args.diff_rows,
            "peak_rss_mib": _peak_rss_mib(resource.RUSAGE_CHILDREN)}


def stage_e2e_cli(args: argparse.Namespace) -> dict:
    out = Path(args.out)
    command = [*migrate_command(), "run", "--mapping", MAPPING, args.input, "--out", str(out),
               "--db", f"sqlite:///{(out / 'migrate.db').resolve()}"]
    if args.workers:
        command += ["--workers", str(args.workers)]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=child_env(), check=False)
    seconds = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise RuntimeError(f"migrate run exited {done.returncode}: {done.stderr[-2000:]}")
    run = json.loads((out / "run.json").read_text())
    recon = run["reconciliation"]
    return {"seconds": seconds, "rows": recon.get("data_records_read", args.rows),
            "accepted": recon.get("accepted"), "rejected": recon.get("rejected"),
            "exit_code": done.returncode, "run_json_seconds": run["seconds"],
            "peak_rss_mib": _peak_rss_mib(resource.RUSAGE_CHILDREN), "command": command[2:]}


def load_frame(url: str, schema, frame, chunk_rows: int):
    """One full life of the SQL sink, as a run has it: staging table, the rows chunk by chunk,
    swap on commit (abort on any error). Returns the committed sink."""
    from migrate.sinks.sql import SqlSink
    from migrate.sinks.swap import load_table

    sink = SqlSink(url, schema)
    try:
        for part in frame.iter_slices(n_rows=chunk_rows):
            sink.write(part)
        load_table(sink)
    except BaseException:
        sink.abort()
        raise
    return sink


def _load(args: argparse.Namespace, url: str) -> dict:
    import dataclasses

    import polars as pl

    from migrate.layouts import load_mapping

    mapping = load_mapping(MAPPING)
    schema = dataclasses.replace(mapping.target, id="bench_" + mapping.target.id)
    frame = pl.read_parquet(args.parquet)
    started = time.perf_counter()
    sink = load_frame(url, schema, frame, BLOCK_BYTES // RECORD_BYTES)
    seconds = time.perf_counter() - started
    counted = sink.count()
    sink.close()
    if counted != frame.height:
        raise RuntimeError(f"the database holds {counted} rows, expected {frame.height}")
    return {"seconds": seconds, "rows": frame.height, "table": schema.name, "sink": sink}


def stage_sqlite_load(args: argparse.Namespace) -> dict:
    path = Path(args.out) / "load.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    result = _load(args, f"sqlite:///{path.resolve()}")
    result.pop("sink")
    return result


def stage_pg_load(args: argparse.Namespace) -> dict:
    import inspect

    import sqlalchemy as sa

    from migrate.sinks.sql import SqlSink

    result = _load(args, args.pg_url)
    sink = result.pop("sink")
    method = "COPY" if "COPY" in inspect.getsource(SqlSink) else "executemany"
    engine = sa.create_engine(args.pg_url)
    with engine.begin() as conn:  # leave the server as we found it
        conn.exec_driver_sql(f'DROP TABLE IF EXISTS "{sink.table_name}"')
    engine.dispose()
    result["method"] = method
    return result


STAGE_FUNCTIONS = {
    "floor": stage_floor, "naive": stage_naive, "read_fwf": stage_read_fwf,
    "read_decode": stage_read_decode, "read_decode_cores": stage_read_decode_cores,
    "e2e": stage_e2e, "e2e_cli": stage_e2e_cli,
    "sqlite_load": stage_sqlite_load, "pg_load": stage_pg_load,
    "e2e_workers1": stage_e2e_workers1, "diff": stage_diff,
    "diff_datacompy": stage_diff_datacompy,
}


def run_child_stage(args: argparse.Namespace) -> int:
    cpu = _cpu_seconds()  # imports included: seconds are timed after them, CPU here is close
    result = STAGE_FUNCTIONS[args.stage](args)
    result["cpu_seconds"] = round(_cpu_seconds() - cpu, 2)
    result.setdefault("peak_rss_mib", _peak_rss_mib())
    print(json.dumps(result, default=str))
    return 0


# ---------------------------------------------------------------- the parent


def machine_facts(workers: int | None, load_before: tuple[float, ...] | None = None) -> dict:
    import polars as pl

    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        usable = os.cpu_count()
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    versions = {"python": platform.python_version(), "polars": pl.__version__}
    for name in ("pyarrow", "pandas", "numpy", "sqlalchemy", "pandera"):
        with contextlib.suppress(ImportError):
            versions[name] = __import__(name).__version__
    from migrate import __version__

    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True, check=False).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "migrate"],
                           capture_output=True, text=True, check=False).stdout.strip()
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cores": os.cpu_count(), "usable_cores": usable, "cpu": cpu,
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / GIB, 1),
        "platform": platform.platform(), "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "versions": versions, "migrate": __version__,
        "git_commit": commit or None, "migrate_code_modified": bool(dirty),
        "workers_requested": workers,
    }


def generate_input(directory: Path, rows: int, seed: int) -> Path:
    """The input file (reused when the folder already holds one of these rows and seed).

    Generated in a child process: the measuring parent stays small.
    """
    path = directory / "juki.dat"
    sidecar = path.with_name(path.name + ".defects.json")
    if path.exists() and sidecar.exists():
        meta = json.loads(sidecar.read_text())
        if meta.get("rows") == rows and meta.get("seed") == seed:
            print(f"reusing {path} ({rows:,} rows)", file=sys.stderr)
            return path
    print(f"generating {rows:,} rows into {path} …", file=sys.stderr, flush=True)
    started = time.perf_counter()
    code = ("import sys; from pathlib import Path; from migrate.layouts import load_mapping; "
            "from migrate.synth.generate import generate; "
            "generate(load_mapping(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), "
            "seed=int(sys.argv[4]), defects=max(int(sys.argv[3]) // 10_000, 1))")
    subprocess.run([sys.executable, "-c", code, MAPPING, str(path), str(rows), str(seed)],
                   env=child_env(), check=True)
    print(f"  {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return path


def measure(stage: str, args: argparse.Namespace, input_path: Path, rows: int, work: Path,
            extra: list[str]) -> dict:
    out = work / stage
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    command = [sys.executable, str(Path(__file__).resolve()), "--stage", stage,
               "--input", str(input_path), "--rows", str(rows), "--out", str(out), *extra]
    if args.workers:
        command += ["--workers", str(args.workers)]
    print(f"  {stage} …", file=sys.stderr, flush=True)
    started = time.perf_counter()
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env=child_env()) as child, TreeMemory(child.pid) as memory:
        stdout, stderr = child.communicate()
    wall = time.perf_counter() - started
    if child.returncode != 0:
        message = (stderr or stdout).strip().splitlines()[-5:]
        print(f"    failed: {' / '.join(message)}", file=sys.stderr)
        return {"error": "\n".join(message), "wall_seconds": round(wall, 3)}
    result = json.loads(stdout.strip().splitlines()[-1])
    result["wall_seconds"] = round(wall, 3)
    result["peak_tree_pss_mib"] = memory.peak_mib  # sampled, all processes of the stage
    result["processes"] = memory.processes - (stage == "e2e_cli")  # not the wrapper
    result["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    print(f"    {result['seconds']:.2f} s, peak RSS {result['peak_rss_mib']:.0f} MiB",
          file=sys.stderr)
    return result


def add_figures(stages: dict, size_bytes: int) -> None:
    floor = stages.get("floor", {})
    floor_mbs = size_bytes / 1e6 / floor["seconds"] if floor.get("seconds") else None
    for result in stages.values():
        if "seconds" not in result:
            continue
        seconds = max(result["seconds"], 1e-9)
        result["seconds"] = round(seconds, 3)
        result["mb_per_s"] = round(size_bytes / 1e6 / seconds, 2)
        result["rows_per_s"] = round(result["rows"] / seconds)
        result["ratio_to_floor"] = round(result["mb_per_s"] / floor_mbs, 3) if floor_mbs \
            else None


def targets(stages: dict) -> list[dict]:
    def figure(stage: str, key: str):
        return stages.get(stage, {}).get(key)

    def check(name: str, value, target, ok) -> dict:
        met = None if value is None or target is None else bool(ok(value, target))
        return {"target": name, "value": value, "threshold": target,
                "met": met, "status": {True: "met", False: "not met", None: "n/a"}[met]}

    e2e = figure("e2e", "mb_per_s")
    rss = [figure(s, k) for s in ("e2e", "e2e_cli") for k in ("peak_rss_mib",
                                                                "peak_tree_pss_mib")]
    rss = max((r for r in rss if r is not None), default=None)

    def ge(value, threshold):
        return value >= threshold

    def ratio(a, b):
        return None if a is None or b is None else round(a / b, 2)

    gain = ratio(figure("e2e_workers1", "seconds"), figure("e2e", "seconds"))
    diff_speed = ratio(figure("diff_datacompy", "seconds"), figure("diff", "seconds"))
    return [
        check("--workers 2 ≥ 1.6× --workers 1 (e2e)", gain, 1.6, ge),
        check("diff ≥ datacompy (speed)", diff_speed, 1.0, ge),
        check("read+decode ≥ 0.6× floor", figure("read_decode", "ratio_to_floor"), 0.6, ge),
        check("read+decode, all cores ≥ 0.6× floor",
              figure("read_decode_cores", "ratio_to_floor"), 0.6, ge),
        check("e2e ≥ 0.4× floor", figure("e2e", "ratio_to_floor"), 0.4, ge),
        check("e2e ≥ 3× naive", ratio(e2e, figure("naive", "mb_per_s")), 3.0, ge),
        check("e2e ≥ 4× read_fwf", ratio(e2e, figure("read_fwf", "mb_per_s")), 4.0, ge),
        check("PostgreSQL ≥ 200,000 rows/s", _f(figure("pg_load", "rows_per_s")), 200_000.0, ge),
        check("SQLite ≥ 100,000 rows/s", _f(figure("sqlite_load", "rows_per_s")), 100_000.0, ge),
        check("peak RSS ≤ 1.5 GiB (migrate run)", rss, 1536.0, lambda v, t: v <= t),
        check("CLI with SQLite ≥ 0.25× floor", figure("e2e_cli", "ratio_to_floor"), 0.25, ge),
    ]


def _gain(stages: dict) -> float | None:
    """e2e throughput with all workers (or --workers) over --workers 1."""
    one, many = stages.get("e2e_workers1", {}), stages.get("e2e", {})
    if not one.get("seconds") or not many.get("seconds"):
        return None
    return round(one["seconds"] / many["seconds"], 3)


def _f(value):
    return None if value is None else float(value)


def print_table(report: dict) -> None:
    machine, size = report["machine"], report["input"]
    print(f"\nmigrate compare — {size['bytes'] / 1e6:,.0f} MB, {size['rows']:,} rows, "
          f"{machine['usable_cores']} cores ({machine['cpu'] or 'cpu ?'}), "
          f"workers {report['workers'] or 'default'}, {machine['date']}")
    print(f"python {machine['versions']['python']}, polars {machine['versions']['polars']}\n")
    header = f"{'stage':<28} {'seconds':>9} {'CPU s':>7} {'MB/s':>8} {'rows/s':>11} " \
             f"{'× floor':>8} {'peak RSS MiB':>13} {'all procs':>10}"
    print(header)
    print("-" * len(header))
    for stage, result in report["stages"].items():
        label = LABELS[stage]
        if "seconds" not in result:
            print(f"{label:<28} {result.get('skipped') or 'failed: ' + result['error'][-80:]}")
            continue
        ratio = result["ratio_to_floor"]
        print(f"{label:<28} {result['seconds']:>9.2f} {result.get('cpu_seconds', 0):>7.1f} "
              f"{result['mb_per_s']:>8.1f} "
              f"{result['rows_per_s']:>11,} {ratio if ratio is not None else '':>8} "
              f"{result['peak_rss_mib']:>13,.0f} {result['peak_tree_pss_mib']:>10,.0f}")
    print("\ntargets (issues 7 and 19):")
    for item in report["targets"]:
        value = item["value"]
        shown = "—" if value is None else f"{value:,.0f}" if value >= 1000 else f"{value:,}"
        print(f"  {item['target']:<36} {shown:>12}  {item['status']}")
    for note in report["notes"]:
        print(f"note: {note}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=float, default=100, help="input size in MB (10^6)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--workers", type=int, help="passed to migrate run when it has it")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep everything "
                        "(an input generated earlier with the same rows is reused)")
    parser.add_argument("--pg-url", default=os.environ.get("MIGRATE_TEST_PG_URL"),
                        help="PostgreSQL URL (default: $MIGRATE_TEST_PG_URL)")
    parser.add_argument("--stages", default=",".join(STAGES),
                        help=f"comma-separated subset of {','.join(STAGES)}")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--diff-rows", type=int, default=1_000_000,
                        help="rows of each dataset of the diff stages (at most the input's)")
    parser.add_argument("--datacompy-python",
                        default=os.environ.get("MIGRATE_DATACOMPY_PYTHON"),
                        help="a Python with datacompy installed (it pins polars < 2)")
    # internal: one stage in a fresh child process
    parser.add_argument("--stage", choices=STAGES, help=argparse.SUPPRESS)
    parser.add_argument("--input", help=argparse.SUPPRESS)
    parser.add_argument("--rows", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--parquet", help=argparse.SUPPRESS)
    parser.add_argument("--diff-pair", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.stage:
        return run_child_stage(args)

    wanted = [s.strip() for s in args.stages.split(",") if s.strip()]
    unknown = set(wanted) - set(STAGES)
    if unknown:
        parser.error(f"unknown stage(s): {', '.join(sorted(unknown))}")
    rows = max(int(args.size_mb * 1e6 / RECORD_BYTES), 10)
    load_before = os.getloadavg()
    notes = []
    workers = args.workers
    if workers and not cli_supports_workers():
        notes.append(f"--workers {workers} ignored: this migrate run has no --workers option")
        workers = args.workers = None
    work = args.keep or Path(tempfile.mkdtemp(prefix="migrate-compare-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        input_path = generate_input(work, rows, args.seed)
        size_bytes = input_path.stat().st_size
        records = size_bytes // RECORD_BYTES
        stages: dict[str, dict] = {}
        pair = None
        print(f"measuring on {input_path} ({size_bytes:,} bytes)", file=sys.stderr)
        for stage in STAGES:
            if stage not in wanted:
                continue
            extra: list[str] = []
            if stage in ("sqlite_load", "pg_load"):
                parquet = next((work / s / "juki.parquet" for s in ("e2e", "e2e_cli")
                                if (work / s / "juki.parquet").exists()), None)
                if parquet is None:
                    stages[stage] = {"skipped": "needs the Parquet file of e2e or e2e_cli"}
                    continue
                extra = ["--parquet", str(parquet)]
            if stage in ("diff", "diff_datacompy"):
                parquet = next((work / s / "juki.parquet" for s in ("e2e", "e2e_cli")
                                if (work / s / "juki.parquet").exists()), None)
                if parquet is None:
                    stages[stage] = {"skipped": "needs the Parquet file of e2e or e2e_cli"}
                    continue
                if stage == "diff_datacompy" and not args.datacompy_python:
                    stages[stage] = {"skipped": "no --datacompy-python / "
                                                "MIGRATE_DATACOMPY_PYTHON (datacompy pins "
                                                "polars < 2: give it a venv of its own)"}
                    continue
                if pair is None:
                    import pyarrow.parquet as pq

                    pair = diff_pair(parquet, args.diff_rows, work)
                    args.diff_rows = pq.read_metadata(pair[0]).num_rows
                extra = ["--diff-pair", ",".join(map(str, pair)), "--diff-rows",
                         str(args.diff_rows)]
                if args.datacompy_python:
                    extra += ["--datacompy-python", args.datacompy_python]
            if stage == "pg_load":
                if not args.pg_url:
                    stages[stage] = {"skipped": "no --pg-url / MIGRATE_TEST_PG_URL"}
                    continue
                extra += ["--pg-url", args.pg_url]
            stages[stage] = measure(stage, args, input_path, rows, work, extra)
        add_figures(stages, size_bytes)
        if "read_fwf" in stages and stages["read_fwf"].get("rows") not in (None, records):
            notes.append(f"pandas.read_fwf parsed {stages['read_fwf']['rows']:,} rows for "
                         f"{records:,} records (line breaks inside packed fields)")
        notes.append("pandas.read_fwf counts characters, not bytes: its columns are wrong "
                     "after the first double-byte character (speed reference only)")
        if "floor" in stages and stages["floor"].get("replaced"):
            notes.append(f"floor: {stages['floor']['replaced']:,} bytes were not cp932 text "
                         "(packed decimals, injected defects) and were decoded as U+FFFD")
        if stages.get("e2e", {}).get("database_skipped") is False:
            notes.append("e2e could not leave out the database sink: its figure includes "
                         "the SQLite load")
        if "pg_load" in stages and stages["pg_load"].get("method") == "executemany":
            notes.append("the PostgreSQL load goes through executemany, not COPY")
        notes.append("peak RSS MiB: ru_maxrss of the stage's main process (for e2e_cli: of "
                     "the largest process of `migrate run`); all procs: sampled peak of the "
                     "summed PSS of the stage's process tree (worker processes included)")
        notes.append("CPU s: user+system CPU of the stage's processes (workers included) "
                     "from just after the child started; CPU s well below seconds for a "
                     "one-process stage means it was starved by other load on the machine")
        notes.append("e2e_cli is the wall time of `migrate run` (interpreter start and "
                      "imports included); the other stages are timed inside their process")
        report = {
            "machine": machine_facts(workers, load_before),
            "input": {"mapping": MAPPING, "size_mb": args.size_mb, "bytes": size_bytes,
                      "rows": rows, "records": records, "seed": args.seed,
                      "path": str(input_path) if args.keep else None},
            "workers": workers,
            "cli_workers_option": cli_supports_workers(),
            "stages": stages,
            "workers_gain": _gain(stages),
            "notes": notes,
        }
        report["targets"] = targets(stages)
        print_table(report)
        if args.json:
            args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
            print(f"\nwrote {args.json}")
        failed = [s for s, r in stages.items() if "error" in r]
        return 1 if failed else 0
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
