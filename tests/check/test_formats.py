"""Each output format of `migrate check`: SARIF validates against the SARIF 2.1.0 JSON schema
(bundled here, from the OASIS standard), JUnit XML parses back with junitparser, GitHub
annotations and JSON carry path, line, column and rule."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import junitparser
import pytest

from migrate.check.formats import render
from migrate.check.lint import check_paths
from migrate.layouts.bundled import bundled_dir

SARIF_SCHEMA = Path(__file__).resolve().parent / "sarif-schema-2.1.0.json"


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("vendor") / "vendor_a"
    shutil.copytree(bundled_dir("mappings") / "vendor_a", folder)
    path = folder / "juki.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("  newline: crlf", "  newlne: crlf")  # an error
    text = text.replace("{offset: 48,  length: 2,", "{offset: 47,  length: 3,")  # a warning
    path.write_text(text, encoding="utf-8")
    return check_paths([folder])


def test_sarif_is_valid_sarif_2_1_0(report):
    log = json.loads(render(report, "sarif"))
    jsonschema.validate(log, json.loads(SARIF_SCHEMA.read_text(encoding="utf-8")))
    results = log["runs"][0]["results"]
    assert {(r["ruleId"], r["level"]) for r in results} >= {("unknown-key", "error"),
                                                           ("field-overlap", "warning")}
    region = results[0]["locations"][0]["physicalLocation"]["region"]
    assert region["startLine"] >= 1 and region["startColumn"] >= 1


def test_junit_parses_back_with_a_failure_per_error(report, tmp_path):
    out = tmp_path / "check.xml"
    out.write_text(render(report, "junit"), encoding="utf-8")
    suite = next(iter(junitparser.JUnitXml.fromfile(str(out))))
    cases = {case.name: case for case in suite}
    assert len(cases) == len(report.files)
    failing = [name for name, case in cases.items() if case.result]
    assert len(failing) == 1 and failing[0].endswith("juki.yaml")
    assert cases[failing[0]].result[0].type == "unknown-key"
    strict = tmp_path / "strict.xml"
    strict.write_text(render(report, "junit", strict=True), encoding="utf-8")
    suite = next(iter(junitparser.JUnitXml.fromfile(str(strict))))
    juki = next(c for c in suite if c.name.endswith("juki.yaml"))
    assert sorted(r.type for r in juki.result) == ["field-overlap", "unknown-key"]


def test_github_annotations(report):
    lines = render(report, "github").splitlines()
    error = next(line for line in lines if "unknown-key" in line)
    assert error.startswith("::error file=") and ",line=" in error and ",col=" in error
    assert any(line.startswith("::warning ") for line in lines)
    assert all(line.startswith("::warning ") is False
               for line in render(report, "github", strict=True).splitlines())


def test_json_and_human_agree(report):
    data = json.loads(render(report, "json"))
    assert data["errors"] == report.count("error") >= 1 and data["warnings"] >= 1
    human = render(report, "human", lang="en").splitlines()
    first = data["problems"][0]
    assert human[0] == (f"{first['path']}:{first['line']}:{first['col']}: "
                        f"{first['severity']}: {first['message']} [{first['rule']}]")
    assert render(report, "human", lang="ja").splitlines()[0].split(": ")[1] in ("エラー", "警告")
