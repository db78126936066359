"""The command line: exit codes, one-paragraph errors, no tracebacks, summary output."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import polars as pl

from migrate.cli import main


def test_generate_then_run(runner, tmp_path):
    data = tmp_path / "x.dat"
    result = runner.invoke(main, ["generate", "--mapping", "vendor_a/juki", "--rows", "500",
                                  "--defects", "5", "--out", str(data)])
    assert result.exit_code == 0, result.output
    assert data.exists() and Path(f"{data}.defects.json").exists()
    result = runner.invoke(main, ["run", "--mapping", "vendor_a/juki", str(data),
                                  "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "Reconciled" in result.output
    doc = json.loads((tmp_path / "out" / "run.json").read_text())
    assert doc["reconciliation"]["rejected"] == 5
    # the files people open in Excel start with a BOM; the standard layout's CSV does not
    for name in ("rejects.csv", "warnings.csv"):
        assert (tmp_path / "out" / name).read_bytes().startswith(b"\xef\xbb\xbfrecord,"), name
    assert (tmp_path / "out" / "juki.csv").read_bytes().startswith(b"src_record,")


def test_mapping_by_path(runner, tmp_path, mapping_copy):
    path = mapping_copy()
    data = tmp_path / "x.dat"
    assert runner.invoke(main, ["generate", "-m", str(path), "--rows", "20", "-o",
                                str(data)]).exit_code == 0
    result = runner.invoke(main, ["run", "-m", str(path), str(data), "-o", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output


def _assert_user_error(result, *needles):
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in result.output, result.output


def test_missing_input(runner, tmp_path):
    result = runner.invoke(main, ["run", "-m", "vendor_a/juki", str(tmp_path / "none.dat"),
                                  "-o", str(tmp_path / "o")])
    _assert_user_error(result, "none.dat", "does not exist")
    assert not (tmp_path / "o").exists()


def test_unknown_mapping(runner, tmp_path):
    result = runner.invoke(main, ["run", "-m", "vendor_z/juki", str(tmp_path),
                                  "-o", str(tmp_path / "o")])
    _assert_user_error(result, "vendor_z/juki", "vendor_a/juki")


def test_wrong_record_length(runner, tmp_path):
    data = tmp_path / "short.dat"
    data.write_bytes((b"1" + b" " * 299 + b"\r\n") * 3)
    result = runner.invoke(main, ["run", "-m", "vendor_a/juki", str(data),
                                  "-o", str(tmp_path / "o")])
    _assert_user_error(result, "short.dat", "432", "300")


def test_mapping_mistake_names_file_and_line(runner, tmp_path, mapping_copy):
    path = mapping_copy(lambda t: t.replace("record_length: 430", "record_length: 420"))
    result = runner.invoke(main, ["run", "-m", str(path), str(tmp_path / "x.dat"),
                                  "-o", str(tmp_path / "o")])
    _assert_user_error(result, f"{path}:")


def test_japanese_error(runner, tmp_path, monkeypatch):
    monkeypatch.setenv("LANG", "ja_JP.UTF-8")
    result = runner.invoke(main, ["run", "-m", "vendor_a/juki", str(tmp_path / "none.dat"),
                                  "-o", str(tmp_path / "o")])
    _assert_user_error(result, "none.dat")
    assert "エラー" in result.output


def test_max_rejects_exit_code(runner, tmp_path):
    data = tmp_path / "x.dat"
    runner.invoke(main, ["generate", "-m", "vendor_a/juki", "--rows", "300", "--defects", "3",
                         "-o", str(data)])
    result = runner.invoke(main, ["run", "-m", "vendor_a/juki", str(data), "-o",
                                  str(tmp_path / "o"), "--max-rejects", "2"])
    assert result.exit_code == 1
    assert "max-rejects" in result.output


def test_demo(runner, tmp_path):
    result = runner.invoke(main, ["demo", "--out", str(tmp_path / "demo"), "--rows", "300"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "demo" / "out" / "juki" / "juki.csv").exists()
    assert (tmp_path / "demo" / "out" / "zeimu" / "zeimu.parquet").exists()
    assert (tmp_path / "demo" / "out" / "run.json").exists()
    # the count on screen is the records listed in defects.json, and the run rejects them all
    listed = json.loads((tmp_path / "demo" / "input" / "defects.json").read_text())
    assert len(listed) > 3  # 3 planted defects touch more records than that
    assert f"and {len(listed)} defective records (listed in" in " ".join(result.output.split())
    out = tmp_path / "demo" / "out"
    # zeimu.dat is read twice (taxpayers, income records): a record rejected by both counts once
    rejected = {(Path(f["input"]).name, record)
                for f in json.loads((out / "run.json").read_text())["files"]
                for record in pl.read_csv(out / Path(f["run_json"]).parent / "rejects.csv",
                                          infer_schema=False)["record"].to_list()}
    assert len(rejected) == len(listed)
    assert {(d["file"], str(d["record"])) for d in listed} == rejected


class Recorder:
    """Stands for the progress display: records the phases and the counts it is given."""

    def __init__(self):
        self.events: list[tuple] = []

    def phase(self, label, total=None):
        self.events.append(("phase", label, total))

    def __call__(self, done, total):
        self.events.append(("count", done, total))


def test_progress_goes_through_every_phase_and_counts_data_records(tmp_path, juki_mapping):
    from migrate.run.pipeline import RunOptions, run
    from migrate.synth.generate import generate

    data = tmp_path / "x.dat"
    generate(juki_mapping, data, 1000, seed=2)
    seen = Recorder()
    result = run(RunOptions(juki_mapping, data, tmp_path / "o", chunk_bytes=432 * 300,
                            progress=seen, workers=1))
    phases = [e[1] for e in seen.events if e[0] == "phase"]
    assert phases == ["Group checks", "Converting",
                      "Writing the outputs and loading the database",
                      "Verifying the database", "Writing the report"]
    counts = [(d, n) for kind, d, n in seen.events if kind == "count"]
    assert len(counts) >= 4  # once per chunk at least
    # data records only (no header, no trailer): the bar ends on the summary's figure
    assert counts[-1] == (1000, 1000) == (result.ledger.data_read, result.ledger.data_read)
    assert [d for d, _ in counts] == sorted(d for d, _ in counts)
    assert ("phase", "Converting", 1000) in seen.events


def test_progress_of_a_file_with_child_records_does_not_overshoot(tmp_path):
    """The tax file's income records are data records too: the total counts them (the bar
    stood at 13635/8640 before)."""
    from migrate.layouts import load_mapping
    from migrate.run.pipeline import RunOptions, run
    from migrate.synth.sets import generate_set

    generate_set(tmp_path / "set", 300)
    seen = Recorder()
    result = run(RunOptions(load_mapping("vendor_a/zeimu"), tmp_path / "set" / "zeimu.dat",
                            tmp_path / "o", db_url="none", chunk_bytes=64 * 1024,
                            progress=seen, workers=1))
    counts = [(d, n) for kind, d, n in seen.events if kind == "count"]
    assert all(d <= n for d, n in counts)
    assert counts[-1] == (result.ledger.data_read, result.ledger.data_read)
    assert ("phase", "Writing the outputs", result.ledger.data_read) not in seen.events


def test_progress_shows_on_a_terminal_only(monkeypatch):
    from rich.console import Console

    from migrate.run.progress import progress_bar

    monkeypatch.delenv("CI", raising=False)
    piped = Console(file=io.StringIO())
    with progress_bar(piped) as progress:
        assert progress is None
    monkeypatch.setenv("CI", "1")
    with progress_bar(Console(file=io.StringIO(), force_terminal=True)) as progress:
        assert progress is None
    monkeypatch.delenv("CI")
    screen = io.StringIO()
    with progress_bar(Console(file=screen, force_terminal=True, width=120)) as progress:
        assert progress is not None
        progress.phase("Converting", 1000)
        progress(500, 1000)
        progress.progress.refresh()
        progress.phase("Writing the report")
        progress.progress.refresh()
    text = screen.getvalue()
    assert "Converting" in text and "500/1,000" in text and "Writing the report" in text


def _japanese(*args: str) -> str:
    """The output of migrate ARGS… in a new process under LANG=ja_JP.UTF-8 (click's words are
    translated when migrate.cli is imported)."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("LANGUAGE", "LC_ALL", "LC_MESSAGES")}
    env.update(LANG="ja_JP.UTF-8", COLUMNS="100")
    done = subprocess.run([sys.executable, "-m", "migrate.cli", *args], env=env,
                          capture_output=True, text=True, timeout=120)
    return done.stdout + done.stderr


# Words that stay as they are in Japanese text: names of formats, products, files and options.
_KEPT = re.compile(r"--?[a-z][a-z-]*|[A-Za-z0-9_./:+*…-]*[/:.][A-Za-z0-9_./:+*…-]*|"
                   r"\b(?:migrate|INPUT|OUT|OUT_DIR|PACKAGE|ADDRESS|KEY|VALUE|A|B|CSV|TSV|"
                   r"UTF-8|cp932|utf-8|lf|crlf|csv|parquet|fixed|Parquet|SQLAlchemy|URL|Dask|"
                   r"BagIt|YAML|JSON|BOM|SHA-256|ID|none|local|dask|vendor_a|"
                   r"Source-Organization|Contact-Name|Contact-Email|External-Identifier)\b")
_ENGLISH = re.compile(r"[A-Za-z]{2,}(?:[ ,']+[A-Za-z]{2,}){2,}")  # three English words in a row


def test_help_and_usage_errors_are_japanese_under_lang_ja():
    from migrate.cli import main as group

    outputs = {"--help": _japanese("--help"),
               "run (no INPUT)": _japanese("run"),
               "run --chunk-mb abc": _japanese("run", "x", "-o", "y", "--chunk-mb", "abc"),
               "unknown command": _japanese("nosuchcommand"),
               "unknown option": _japanese("run", "x", "-o", "y", "--nosuchoption")}
    for name in group.commands:
        outputs[f"{name} --help"] = _japanese(name, "--help")
        outputs[f"{name} --nosuchoption"] = _japanese(name, "--nosuchoption")
    for what, text in outputs.items():
        assert "使い方" in text, (what, text)
        assert "Traceback" not in text, (what, text)
        english = _ENGLISH.findall(_KEPT.sub(" ", text))
        assert not english, (what, english, text)


def test_plan_progress_names_the_file_and_keeps_one_file_on_screen(monkeypatch):
    from rich.console import Console

    from migrate.run.progress import PlanProgress

    monkeypatch.delenv("CI", raising=False)
    screen = io.StringIO()
    with PlanProgress(Console(file=screen, force_terminal=True, width=120), 5) as plan:
        first = plan.next_file("juki/v1")
        first.phase("Converting", 500)
        first(500, 500)
        plan.display.refresh()
        second = plan.next_file("zeimu/v1")
        second.phase("Converting", 912)
        plan.display.refresh()
        assert [task.description for task in plan.display.tasks] == ["2/5 zeimu/v1: Converting"]
    assert "1/5 juki/v1: Converting" in screen.getvalue()
    with PlanProgress(Console(file=io.StringIO()), 5) as plan:  # not a terminal: nothing
        assert plan.next_file("juki/v1") is None
