"""`migrate check` on the command line: exit codes (0 clean, 1 findings, 2 usage), Japanese
under LANG=ja, the JSON Schemas, --sample; and `migrate run` still stops at the first problem."""

from __future__ import annotations

import json

from migrate.check.jsonschema import json_schema_text
from migrate.cli import main


def test_bundled_files_check_clean(runner):
    result = runner.invoke(main, ["check"])
    assert result.exit_code == 0, result.output
    assert "0 error(s), 0 warning(s)" in result.output


def test_findings_exit_1_and_warnings_only_with_strict(runner, mapping_copy):
    path = mapping_copy(lambda t: t.replace("{offset: 48,  length: 2,", "{offset: 47,  length: 3,"))
    result = runner.invoke(main, ["check", str(path)])
    assert result.exit_code == 0 and "warning:" in result.output and "[field-overlap]" in result.output
    assert runner.invoke(main, ["check", "--strict", str(path)]).exit_code == 1
    path.write_text(path.read_text(encoding="utf-8").replace("  newline: crlf", "  newlne: crlf"),
                    encoding="utf-8")
    result = runner.invoke(main, ["check", "--format", "json", str(path.parent)])
    assert result.exit_code == 1
    assert {p["rule"] for p in json.loads(result.output)["problems"]} >= {"unknown-key",
                                                                         "field-overlap"}


def test_usage_errors_exit_2(runner, tmp_path):
    assert runner.invoke(main, ["check", str(tmp_path / "nothing")]).exit_code == 2
    assert runner.invoke(main, ["check", "--format", "xml"]).exit_code == 2
    assert runner.invoke(main, ["check", "--sample", str(tmp_path)]).exit_code == 2


def test_japanese_under_lang_ja(runner, mapping_copy, monkeypatch):
    path = mapping_copy(lambda t: t.replace("  newline: crlf", "  newlne: crlf"))
    monkeypatch.setenv("LANG", "ja_JP.UTF-8")
    result = runner.invoke(main, ["check", str(path)])
    assert result.exit_code == 1
    assert ": エラー: " in result.output and "のことですか" in result.output


def test_json_schema_printed(runner):
    result = runner.invoke(main, ["check", "--json-schema", "mapping"])
    assert result.exit_code == 0 and result.output == json_schema_text("mapping")


def test_sample(runner, tmp_path):
    data = tmp_path / "x.dat"
    assert runner.invoke(main, ["generate", "-m", "vendor_a/juki", "--rows", "40", "--defects",
                                "3", "-o", str(data)]).exit_code == 0
    result = runner.invoke(main, ["check", "vendor_a/juki", "--sample", str(data), "-n", "40"])
    assert result.exit_code == 1 and "40 record(s) sampled" in result.output
    assert not (tmp_path / "out").exists()


def test_run_still_stops_at_the_first_problem(runner, mapping_copy, tmp_path):
    path = mapping_copy(lambda t: t.replace("  newline: crlf", "  newlne: crlf")
                        .replace("type: digits}\n  shubetsu", "type: digit}\n  shubetsu"))
    result = runner.invoke(main, ["run", "-m", str(path), str(tmp_path / "x.dat"),
                                  "-o", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "unknown key 'newlne' in source" in result.output
    assert "digit'" not in result.output and not (tmp_path / "o").exists()
