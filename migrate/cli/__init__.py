"""Command line: parse, call, print. No logic lives here."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from migrate import __version__
from migrate.check.formats import FORMATS
from migrate.check.jsonschema import KINDS
from migrate.cli import authoring
from migrate.cli.errorhandling import handles_errors, stderr
from migrate.errors import UsageError
from migrate.i18n import t
from migrate.run.engines import ENGINES

# click's own words (usage, section titles, usage errors) in Japanese. click looks its messages
# up through the module-level names `_` and `ngettext` of its modules at call time, so pointing
# those at this table translates them; anything not listed stays as click wrote it.
_CLICK_JA = {
    "Usage:": "使い方:",
    "Options": "オプション",
    "Commands": "コマンド",
    "Positional arguments": "引数",
    "Show this message and exit.": "このヘルプを表示して終了します。",
    "Show the version and exit.": "バージョンを表示して終了します。",
    "%(prog)s, version %(version)s": "%(prog)s バージョン %(version)s",
    "default: {default}": "既定値：{default}",
    "required": "必須",
    "env var: {var}": "環境変数：{var}",
    "Error: {message}": "エラー：{message}",
    "Try '{command} {option}' for help.": "'{command} {option}' で使い方を表示できます。",
    "Missing argument": "次の引数を指定してください：",
    "Missing option": "次のオプションを指定してください：",
    "Missing parameter": "次のパラメーターを指定してください：",
    "Missing {param_type}": "次の{param_type}を指定してください：",
    "Missing parameter: {param_name}": "パラメーター {param_name} がありません。",
    "Missing command.": "コマンドを指定してください。",
    "No such command {name!r}.": "コマンド {name!r} はありません。",
    "No such option {name!r}.": "オプション {name!r} はありません。",
    "No such option: {name}": "オプション {name} はありません。",
    "Option {name!r} does not take a value.": "オプション {name!r} に値は指定できません。",
    "Invalid value for {param_hint}: {message}": "{param_hint} の値が正しくありません：{message}",
    "Invalid value: {message}": "値が正しくありません：{message}",
    "{value!r} is not a valid {number_type}.": "{value!r} は数値ではありません。",
    "{value} is not in the range {range}.": "{value} は範囲 {range} の外です。",
    "{name} {filename!r} does not exist.": "{name} {filename!r} がありません。",
    "{name} {filename!r} is a directory.": "{name} {filename!r} はフォルダーです。",
    "{name} {filename!r} is a file.": "{name} {filename!r} はファイルです。",
    "{name} {filename!r} is not readable.": "{name} {filename!r} を読み取れません。",
    "{name} {filename!r} is not writable.": "{name} {filename!r} に書き込めません。",
    "file": "ファイル",
    "directory": "フォルダー",
    "path": "パス",
    "Aborted!": "中止しました。",
    "Got unexpected extra argument ({args})": "余分な引数があります（{args}）",
    "Got unexpected extra arguments ({args})": "余分な引数があります（{args}）",
    "Option {name!r} requires an argument.": "オプション {name!r} には値が必要です。",
    "Option {name!r} requires {nargs} arguments.": "オプション {name!r} には値が {nargs} 個必要です。",
    "Did you mean {possibility}?": "{possibility} のことですか？",
    "(Did you mean one of: {possibilities}?)": "（{possibilities} のいずれかですか？）",
    "{value!r} is not {choice}.": "{value!r} は {choice} ではありません。",
    "{value!r} is not one of {choices}.": "{value!r} は {choices} のいずれでもありません。",
}


def _display_width(text: str) -> int:
    """Columns a text takes on a terminal: full-width (East Asian wide) characters take two."""
    import re
    import unicodedata

    plain = re.sub(r"\x1b\[[0-9;]*m", "", text)
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in plain)


def _translate_click() -> None:
    """Let click speak Japanese when the user's locale is Japanese."""
    from migrate.i18n import language

    if language() != "ja":
        return
    import importlib

    def gettext(message: str) -> str:
        return _CLICK_JA.get(message, message)

    def ngettext(singular: str, plural: str, n: int) -> str:
        return gettext(singular if n == 1 else plural)

    for name in ("core", "decorators", "exceptions", "formatting", "parser", "types",
                 "termui", "utils"):
        module = importlib.import_module(f"click.{name}")
        if hasattr(module, "_"):
            module._ = gettext  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = ngettext  # type: ignore[attr-defined]
    # columns of --help line up when a cell holds full-width characters (2 columns each)
    from click import formatting

    formatting.term_len = _display_width  # type: ignore[attr-defined]
    # the value placeholders of --help (TEXT, INTEGER RANGE …) come from the types' names
    from click import types

    for kind, label in ((types.StringParamType, "文字列"), (types.IntParamType, "整数"),
                        (types.IntRange, "整数"), (types.FloatParamType, "数値"),
                        (types.FloatRange, "数値")):
        kind.name = label


_translate_click()


def _quiet_interrupts(unraisable: Any) -> None:
    """Ctrl-C can land while a generator is being closed: Python then prints "Exception
    ignored … KeyboardInterrupt" with a traceback. The run ends with its own message."""
    if isinstance(unraisable.exc_value, KeyboardInterrupt):
        return
    sys.__unraisablehook__(unraisable)


@click.group(help=t("migrate: move legacy core-system exports into the standard layout, and prove "
              "it."))
@click.version_option(__version__, prog_name="migrate")
def main() -> None:
    """The help text is in the decorator (translated)."""
    os.umask(0o077)
    sys.unraisablehook = _quiet_interrupts
    for stream in (sys.stdout, sys.stderr):  # a terminal that cannot show 氏名 gets \u6c0f…
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")


@main.command("run", help=t("Convert INPUT with a mapping — or every file of a migration plan "
              "(migration.yaml) in dependency order — and write CSV, Parquet, a database, "
              "rejects and run.json."))
@click.option("--mapping", "-m", "mapping_ref", default=None,
              help=t("Mapping id (e.g. vendor_a/juki) or path to a mapping YAML file. Leave it "
                   "out when INPUT is a migration plan (migration.yaml)."))
@click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path))
@click.option("--out", "-o", "out_dir", required=True, type=click.Path(path_type=Path),
              help=t("Output folder."))
@click.option("--db", "db_url", default=None,
              help=t("SQLAlchemy database URL (default: sqlite:///OUT/migrate.db); 'none' "
                   "writes files only."))
@click.option("--max-rejects", type=click.IntRange(min=0), default=None,
              help=t("Fail (exit 1) when more records than this are rejected."))
@click.option("--max-reject-rate", type=click.FloatRange(min=0, max=1), default=None,
              metavar="SHARE",
              help=t("Fail (exit 1) when more than this share of the data records (0–1) is "
                   "rejected; one reason at one field above it is reported as a probable "
                   "mapping error. Without it that share is 0.5, and a run that accepts no "
                   "record always fails."))
@click.option("--chunk-mb", type=click.IntRange(min=1), default=32, show_default=True,
              help=t("Megabytes of input processed per chunk (bounds memory)."))
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help=t("Processes for decoding and validation (default: all cores). Outputs are "
                   "identical whatever the number."))
@click.option("--engine", type=click.Choice(ENGINES), default="local", show_default=True,
              help=t("Where the per-chunk work runs: this machine's processes, or Dask "
                   "(a local cluster of --workers processes, or the cluster at --scheduler). "
                   "Outputs are identical."))
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help=t("With --engine dask: the Dask scheduler to use, e.g. tcp://host:8786. The "
                   "input must be at the same path on every worker."))
@click.option("--resume", is_flag=True,
              help=t("Continue a run (or a migration plan) into the same OUT that was killed: "
                   "the chunks it finished are reused (same inputs, mappings and --chunk-mb, "
                   "else exit 2)."))
@click.option("--verbose", "-v", is_flag=True,
              help=t("List every check and every reject reason in the summary."))
@handles_errors
def run_command(mapping_ref: str, input_path: Path, out_dir: Path, db_url: str | None,
                max_rejects: int | None, max_reject_rate: float | None, chunk_mb: int,
                workers: int | None, engine: str, scheduler: str | None, resume: bool,
                verbose: bool) -> None:
    """The help text is in the decorator (translated)."""
    from migrate.layouts import load_mapping
    from migrate.layouts.plan import is_plan, load_plan
    from migrate.report.summary import print_summary
    from migrate.run.pipeline import RunOptions, run
    from migrate.run.progress import progress_bar

    if scheduler and engine != "dask":
        raise UsageError("--scheduler needs --engine dask",
                         hint="Add --engine dask to run on the Dask cluster at {address}.",
                         hint_params={"address": scheduler})
    if mapping_ref is None:
        if not is_plan(input_path):
            raise UsageError("--mapping is missing",
                             hint="Give --mapping for a legacy file, or a migration plan "
                                  "(a YAML file with inputs:) as INPUT.")
        result = _run_plan(load_plan(input_path), out_dir, db_url, max_rejects, chunk_mb,
                           workers, engine, scheduler, max_reject_rate, resume)
        sys.exit(result.exit_code)
    mapping = load_mapping(mapping_ref)
    console = Console()
    with progress_bar(console) as progress:
        result = run(RunOptions(mapping, input_path, out_dir, db_url, max_rejects,
                                chunk_mb * 1024 * 1024, progress, workers, engine, scheduler,
                                resume=resume, max_reject_rate=max_reject_rate))
    print_summary(result, console, verbose)
    sys.exit(result.exit_code)


def _run_plan(plan: Any, out_dir: Path, db_url: str | None, max_rejects: int | None,
              chunk_mb: int, workers: int | None, engine: str, scheduler: str | None,
              max_reject_rate: float | None, resume: bool = False) -> Any:
    from migrate.report.summary import print_plan_summary
    from migrate.run.plan import run_plan
    from migrate.run.progress import PlanProgress

    console = Console()
    with PlanProgress(console, len(plan.inputs)) as shown:

        def progress(item: Any) -> Any:
            console.print(t("Converting {layout} from {input}", layout=item.mapping.target.id,
                            input=item.input), highlight=False)
            return shown.next_file(item.mapping.target.id)

        def done(item: Any, result: Any) -> None:
            shown.done()

        result = run_plan(plan, out_dir, db_url=db_url, max_rejects=max_rejects,
                          chunk_bytes=chunk_mb * 1024 * 1024, workers=workers, engine=engine,
                          scheduler=scheduler, progress=progress, on_done=done,
                          max_reject_rate=max_reject_rate, resume=resume)
    print_plan_summary(result, console)
    return result


@main.command("batch", help=t("Run many migrations listed in BATCH (a YAML file of runs: one town's "
              "migration plan, or one file and its mapping, each) into OUT/<name>, each with its "
              "own publish point, and write OUT/batch.json with their totals. With --engine dask "
              "every run is a task on the cluster."))
@click.argument("batch_path", metavar="BATCH", type=click.Path(path_type=Path))
@click.option("--out", "-o", "out_dir", required=True, type=click.Path(path_type=Path),
              help=t("Output folder: one folder per run, and batch.json."))
@click.option("--max-rejects", type=click.IntRange(min=0), default=None,
              help=t("Fail a run (exit 1) when more of its records than this are rejected."))
@click.option("--chunk-mb", type=click.IntRange(min=1), default=32, show_default=True,
              help=t("Megabytes of input processed per chunk (bounds memory)."))
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help=t("Locally: processes per run (default: all cores). With --engine dask and "
                   "no --scheduler: the worker processes of the local cluster."))
@click.option("--engine", type=click.Choice(ENGINES), default="local", show_default=True,
              help=t("Where the runs go: one after another on this machine, or as tasks on "
                   "Dask (a local cluster, or the cluster at --scheduler)."))
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help=t("With --engine dask: the Dask scheduler to use, e.g. tcp://host:8786. "
                   "Inputs and OUT must be at the same path on every worker."))
@handles_errors
def batch_command(batch_path: Path, out_dir: Path, max_rejects: int | None, chunk_mb: int,
                  workers: int | None, engine: str, scheduler: str | None) -> None:
    """The help text is in the decorator (translated)."""
    from migrate.layouts.batch import load_batch
    from migrate.report.batchsummary import print_batch_summary
    from migrate.run.batch import run_batch

    console = Console()
    batch = load_batch(batch_path)

    def done(summary: dict[str, Any]) -> None:
        console.print(t("{run}: done in {seconds} s", run=summary["name"],
                        seconds=f"{summary['seconds']:,.1f}"), highlight=False, markup=False)

    result = run_batch(batch, out_dir, engine=engine, scheduler=scheduler, workers=workers,
                       chunk_bytes=chunk_mb * 1024 * 1024, max_rejects=max_rejects,
                       on_done=done)
    print_batch_summary(result.document, result.batch_json, console)
    sys.exit(result.exit_code)


@main.command("generate", help=t("Write a realistic synthetic legacy export for a mapping (or a whole set with "
              "--set)."))
@click.option("--mapping", "-m", "mapping_ref", default=None, help=t("Mapping id or path."))
@click.option("--set", "set_name", type=click.Choice(["vendor_a"]), default=None,
              help=t("Instead of one file: a consistent set of resident, tax and NHI files of "
                   "this vendor plus migration.yaml, written into the folder OUT."))
@click.option("--rows", type=click.IntRange(min=1), required=True,
              help=t("Data records (with --set: resident records)."))
@click.option("--out", "-o", "out_path", required=True, type=click.Path(path_type=Path),
              help=t("The legacy file to write (with --set: the folder)."))
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--defects", type=click.IntRange(min=0), default=0, show_default=True,
              help=t("Inject this many defective records (listed in OUT.defects.json)."))
@handles_errors
def generate_command(mapping_ref: str | None, set_name: str | None, rows: int, out_path: Path,
                     seed: int, defects: int) -> None:
    """The help text is in the decorator (translated)."""
    from migrate.layouts import load_mapping
    from migrate.synth.generate import generate

    if (mapping_ref is None) == (set_name is None):
        raise UsageError("give either --mapping or --set",
                         hint="--mapping vendor_a/juki writes one file; --set vendor_a writes "
                              "resident, tax and NHI files and their migration plan.")
    if set_name is not None:
        from migrate.synth.sets import generate_set

        if defects > rows // 100:
            raise UsageError("--defects {defects} is too many for {rows} rows",
                             {"defects": defects, "rows": rows},
                             hint="A set takes at most one defect per 100 resident records "
                                  "({most} here).", hint_params={"most": rows // 100})
        report = generate_set(out_path, rows, seed=seed, defects=defects)
        click.echo(t("Wrote the {name} set into {path}: {files}; run it with: migrate run "
                     "{plan} --out OUT", name=set_name, path=out_path,
                     files=", ".join(report.files),
                     plan=out_path / "migration.yaml"))
        return

    mapping = load_mapping(mapping_ref)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    report = generate(mapping, out_path, rows, seed=seed, defects=defects)
    click.echo(t("Wrote {rows} data records ({bytes} bytes) to {path}; SHA-256 {sha}.",
                 rows=f"{report.rows:,}", bytes=f"{report.bytes:,}", path=report.path,
                 sha=report.sha256))
    if defects:
        click.echo(t("Injected defects are listed in {path}.",
                     path=f"{report.path}.defects.json"))


@main.command("demo", help=t("Generate a vendor_a set for the three business areas (resident records, "
              "resident tax, NHI) with injected defects, and run its migration plan."))
@click.option("--out", "-o", "out_dir", type=click.Path(path_type=Path),
              default=Path("migrate-demo"), show_default=True, help=t("Folder for everything."))
@click.option("--rows", type=click.IntRange(min=1), default=5000, show_default=True)
@click.option("--defects", type=click.IntRange(min=0), default=16, show_default=True)
@handles_errors
def demo_command(out_dir: Path, rows: int, defects: int) -> None:
    """The help text is in the decorator (translated)."""
    from migrate.layouts.plan import load_plan
    from migrate.synth.sets import generate_set

    console = Console()
    input_dir = out_dir / "input"
    defects = min(defects, rows // 100)
    report = generate_set(input_dir, rows, seed=1, defects=defects)
    # a planted defect can touch several records (a household, a person's tax and NHI rows):
    # the figure is the records listed in defects.json, each of which the run must reject
    console.print(t("1. Generated {rows} resident records with tax and NHI files and {defects} "
                    "defective records (listed in {file}): {path}", rows=f"{report.rows:,}",
                    defects=f"{len(report.defects):,}", file=input_dir / "defects.json",
                    path=input_dir), highlight=False)
    plan_path = input_dir / "migration.yaml"
    console.print(t("2. Running: migrate run {plan} --out {out}", plan=plan_path,
                    out=out_dir / "out"))
    result = _run_plan(load_plan(plan_path), out_dir / "out", None, None, 32, None, "local",
                       None, None)
    console.print(t("3. Look at {report} (every area and the cross-file checks), then each "
                    "area's folder: the standard-layout CSV/Parquet, rejects.csv (each rejected "
                    "record with the reason and the fix) and its own report.html.",
                    report=result.report))
    sys.exit(result.exit_code)


@main.command("reconcile", help=t("Re-check a finished run's files against run.json (SHA-256) and its database "
              'against its Parquet output (counts, control totals, row hashes; the keys that '
              'differ). A run that died is settled first. Exit 1 when something drifted.'))
@click.argument("out_dir", metavar="OUT_DIR", type=click.Path(path_type=Path))
@click.option("--db", "db_url", default=None,
              help=t("Database URL of the run (default: sqlite:///OUT_DIR/migrate.db)."))
@click.option("--verbose", "-v", is_flag=True, help=t("List the checks that passed too."))
@handles_errors
def reconcile_command(out_dir: Path, db_url: str | None, verbose: bool) -> None:
    """The help text is in the decorator (translated)."""
    from migrate.reconcile.files import check_files
    from migrate.reconcile.verify_db import reconcile_all
    from migrate.report.reconciliation import print_reconciliation
    from migrate.run.publishing import recover_output

    console = Console()
    for line in recover_output(out_dir, db_url):  # a run that died: finish or undo it first
        console.print(t("Left by a run that stopped: {what}", what=line), highlight=False)
    checks = reconcile_all(out_dir, db_url)
    ok = print_reconciliation(check_files(out_dir), checks, console, verbose)
    sys.exit(0 if ok else 1)


@main.command("docs", help=t("Write a data dictionary of a standard layout or a mapping as one "
                               "self-contained HTML page: columns with their Japanese and English "
                               "names, types, lengths, code values, checks and references; for a "
                               "mapping, its byte layout as a ruler with each field beside the "
                               "column it feeds."))
@click.argument("ref", metavar="SCHEMA|MAPPING")
@click.option("--out", "-o", "out_path", type=click.Path(path_type=Path), default=None,
              help=t("HTML file to write (default: the id with _ for /, e.g. juki_v1.html)."))
@handles_errors
def docs_command(ref: str, out_path: Path | None) -> None:
    """The help text is in the decorator (translated)."""
    from migrate.report.docs import write_docs

    path = write_docs(ref, out_path)
    Console().print(t("Data dictionary written to {path}", path=path), highlight=False,
                    soft_wrap=True)


@main.command("export", help=t("Write the contract deliverable: a BagIt bag with datapackage.json, the layout "
              "YAML files and the cover list 送付ファイル一覧.csv."))
@click.option("--from", "source", required=True,
              help=t("A run's output folder or a plan's output folder (the --out of migrate run), "
                   "or a database URL (sqlite:///out/migrate.db, postgresql+psycopg://…)."))
@click.option("--to", "to", required=True, type=click.Path(path_type=Path),
              help=t("The package folder to write (new or empty)."))
@click.option("--layout", "layouts", default=None,
              help=t("Only these layouts, comma-separated (e.g. juki/v1,zeimu/v1)."))
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet", "fixed"]), default="csv",
              show_default=True, help=t("Format of the data files; fixed: the fixed-width layout "
                                      "of --mapping, written back from the standard data."))
@click.option("--mapping", "-m", "mapping_ref", default=None,
              help=t("With --format fixed: the mapping (id or path) whose layout is written."))
@click.option("--encoding", type=click.Choice(["utf-8", "cp932"]), default="utf-8",
              show_default=True, help=t("Encoding of the CSV files."))
@click.option("--newline", type=click.Choice(["lf", "crlf"]), default="lf", show_default=True)
@click.option("--bom", is_flag=True, help=t("Start each UTF-8 CSV file with a byte order mark."))
@click.option("--encrypt-to", "encrypt_to", multiple=True, metavar="PUBLIC_KEY",
              help=t("Encrypt the package (age) to this recipient's public key (age1… or an "
                     "SSH public key); writes TO.tar.age instead of the folder. Repeatable."))
@click.option("--info", "info", multiple=True, metavar="KEY=VALUE",
              help=t("A bag-info.txt line: Source-Organization, Contact-Name, Contact-Email, "
                   "External-Identifier (the contract), ... Repeatable."))
@handles_errors
def export_command(source: str, to: Path, layouts: str | None, fmt: str,
                   mapping_ref: str | None, encoding: str, newline: str, bom: bool,
                   encrypt_to: tuple[str, ...], info: tuple[str, ...]) -> None:
    """The help text is in the decorator (translated)."""
    from migrate.export.package import ExportOptions, export, parse_info

    options = ExportOptions(source, to, layouts.split(",") if layouts else None, fmt, encoding,
                            newline, bom, parse_info(info), mapping_ref, list(encrypt_to))
    result = export(options, progress=lambda layout: stderr.print(
        t("Exporting {layout}", layout=layout), highlight=False))
    for exported in result.files:
        click.echo(f"  {exported.path}  {exported.layout}  {exported.rows:,}  {exported.sha256}")
    click.echo(t("Wrote the package {path}: {files} files, {rows} rows in {seconds} s. Check it "
                 "with: migrate verify {path}", path=result.path, files=len(result.files),
                 rows=f"{result.rows:,}", seconds=f"{result.seconds:.1f}"))


@main.command("verify", help=t("Check a package (made by migrate export or following the documented format): "
              "bag fixity, row counts, every row against its layout, cross-file references "
              "and group checks. Exit 0 when everything holds, 1 when something differs."))
@click.argument("package", metavar="PACKAGE", type=click.Path(path_type=Path))
@click.option("--out", "out_path", type=click.Path(path_type=Path), default=Path("verify.json"),
              show_default=True, help=t("Where to write the findings as JSON (outside the "
                                      "package: a file added inside it would break the bag)."))
@click.option("--all", "verbose", is_flag=True, help=t("List the checks that passed too."))
@click.option("--identity", type=click.Path(path_type=Path), default=None,
              help=t("For an encrypted package (….tar.age): the recipient's age identity file."))
@handles_errors
def verify_command(package: Path, out_path: Path, verbose: bool, identity: Path | None) -> None:
    """The help text is in the decorator (translated)."""
    import json

    from migrate.export.verify import verify
    from migrate.report.verdict import print_verdict
    from migrate.sinks.atomic import write_text_atomic

    result = verify(package, progress=lambda name: stderr.print(
        t("Checking {file}", file=name), highlight=False), identity=identity)
    document = result.as_dict()
    write_text_atomic(out_path, json.dumps(document, ensure_ascii=False, indent=2))
    print_verdict(document["findings"], result.ok, Console(), verbose)
    click.echo(f"verify.json: {out_path}")
    sys.exit(0 if result.ok else 1)


@main.command("diff", help=t("Compare two standardized datasets by key (run folders, packages, Parquet or "
              "CSV files, database URLs with --layout): rows only in A, only in B, changed "
              "rows per column. Exit 0 when equal, 1 when they differ."))
@click.argument("a", metavar="A")
@click.argument("b", metavar="B")
@click.option("--key", "key", default=None,
              help=t("Key column(s), comma-separated (default: the layout's primary key)."))
@click.option("--layout", default=None,
              help=t("The layout of A and B (e.g. juki/v1): picks one file of a plan or package, "
                   "and types bare CSV files."))
@click.option("--ignore", default=None, help=t("Columns not to compare, comma-separated."))
@click.option("--tolerance", type=click.FloatRange(min=0), default=0.0, show_default=True,
              help=t("Numbers that differ by at most this much are equal."))
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("."),
              show_default=True, help=t("Folder for diff.json and diff.html."))
@handles_errors
def diff_command(a: str, b: str, key: str | None, layout: str | None, ignore: str | None,
                 tolerance: float, out_dir: Path) -> None:
    """The help text is in the decorator (translated)."""
    import json

    from migrate.export.diff import DiffOptions, diff
    from migrate.report.diffpage import write_diff_html
    from migrate.sinks.atomic import write_text_atomic

    result = diff(DiffOptions(a, b, key.split(",") if key else None, layout,
                              ignore.split(",") if ignore else [], tolerance))
    document = result.document
    out_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_text_atomic(out_dir / "diff.json", json.dumps(document, ensure_ascii=False, indent=2))
    html = write_diff_html(document, out_dir / "diff.html")
    click.echo(t("rows: A {a}, B {b}; only in A {only_a}, only in B {only_b}, changed {changed}",
                 a=f"{document['a']['rows']:,}", b=f"{document['b']['rows']:,}",
                 only_a=f"{document['only_in_a']['count']:,}",
                 only_b=f"{document['only_in_b']['count']:,}",
                 changed=f"{document['changed']['count']:,}"))
    for column, entry in document["changed"]["by_column"].items():
        click.echo(f"  {column}: {entry['count']:,}")
    click.echo(t("The datasets are equal.") if result.equal else t("The datasets differ."))
    click.echo(f"diff.json: {out_dir / 'diff.json'}\ndiff.html: {html}")
    sys.exit(0 if result.equal else 1)


for _command in authoring.COMMANDS:
    main.add_command(_command)


@main.command("check", help=t("Check mappings, schemas, plans, code and gaiji tables and report "
                               "every problem at once (for CI); with no PATHS, the bundled ones; a "
                               "folder: everything in it. Exit 0 clean, 1 findings, 2 usage error."))
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="human", show_default=True,
              help=t("human, json, github (workflow annotations), sarif (2.1.0), junit (XML)."))
@click.option("--strict", is_flag=True, help=t("Warnings fail the check too (exit 1)."))
@click.option("--all-codes", is_flag=True,
              help=t("Also warn about standard codes that no vendor code maps to."))
@click.option("--json-schema", "schema_kind", type=click.Choice(tuple(KINDS)),
              help=t("Print the JSON Schema of a YAML kind for editors, and exit."))
@click.option("--sample", "sample_path", type=click.Path(path_type=Path, dir_okay=False),
              help=t("Run the mapping (the one PATH) over the first records of this legacy file "
                     "and count the rejects by reason; writes nothing."))
@click.option("-n", "sample_n", type=click.IntRange(min=1), default=1000, show_default=True,
              help=t("Records --sample reads."))
@handles_errors
def check_command(paths: tuple[Path, ...], fmt: str, strict: bool, all_codes: bool,
                  schema_kind: str | None, sample_path: Path | None, sample_n: int) -> None:
    from migrate.check.formats import render, sample_text
    from migrate.check.jsonschema import json_schema_text
    from migrate.check.lint import check_paths, default_paths

    if schema_kind:
        click.echo(json_schema_text(schema_kind), nl=False)
        return
    if sample_path is not None:
        from migrate.check.sample import run_sample
        from migrate.layouts import load_mapping

        if len(paths) != 1:
            raise UsageError("--sample needs exactly one mapping", hint="migrate check "
                             "MAPPING.yaml --sample FILE [-n N]")
        result = run_sample(load_mapping(paths[0]), sample_path, sample_n)
        click.echo(sample_text(result), nl=False)
        sys.exit(1 if result.rejected else 0)
    report = check_paths([*paths] or default_paths(), all_codes)
    click.echo(render(report, fmt, strict=strict), nl=False)
    sys.exit(1 if report.failed(strict) else 0)


def _translate_metavars() -> None:
    """[OPTIONS] and COMMAND [ARGS]... of the usage lines in the user's language."""
    from migrate.i18n import language

    if language() != "ja":
        return
    main.options_metavar = "[オプション]"
    main.subcommand_metavar = "コマンド [引数]..."
    for command in main.commands.values():
        command.options_metavar = "[オプション]"
        if isinstance(command, click.Group):  # migrate layout from-copybook
            command.subcommand_metavar = "コマンド [引数]..."
            for subcommand in command.commands.values():
                subcommand.options_metavar = "[オプション]"


_translate_metavars()


if __name__ == "__main__":
    main()
