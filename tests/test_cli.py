"""The command line: exit codes, one-paragraph errors, no tracebacks, summary output."""

from __future__ import annotations

import json
import re
from pathlib import Path

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
    files = json.loads((tmp_path / "demo" / "out" / "run.json").read_text())["files"]
    assert sum(f["rejected"] for f in files) == len(listed)


def test_progress_reports_records(tmp_path, juki_mapping):
    from migrate.run.pipeline import RunOptions, run
    from migrate.synth.generate import generate

    data = tmp_path / "x.dat"
    generate(juki_mapping, data, 1000, seed=2)
    seen = []
    run(RunOptions(juki_mapping, data, tmp_path / "o", chunk_bytes=432 * 300,
                   progress=lambda done, total: seen.append((done, total)), workers=1))
    assert seen[-1] == (1002, 1002)  # header + data + trailer
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


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
    for what, text in outputs.items():
        assert "使い方" in text, (what, text)
        assert "Traceback" not in text, (what, text)
        english = _ENGLISH.findall(_KEPT.sub(" ", text))
        assert not english, (what, english, text)
