"""`migrate check` over broken mappings: each rule fires at the right line and column, and
every problem of a file is reported at once; the bundled files are clean."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from migrate.check.lint import check_paths, default_paths
from migrate.layouts.bundled import bundled_dir

JUKI = bundled_dir("mappings") / "vendor_a" / "juki.yaml"


@pytest.fixture
def vendor(tmp_path: Path) -> Path:
    """A copy of the bundled vendor_a folder (mappings with their code and 外字 tables)."""
    target = tmp_path / "vendor_a"
    shutil.copytree(JUKI.parent, target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                if needle in line)


def found(path: Path, **options: bool) -> list[tuple[str, int, int, str]]:
    report = check_paths([path], **options)
    return [(Path(p.path).name, p.line, p.col, p.rule) for p in report.problems]


def test_bundled_files_are_clean():
    report = check_paths(default_paths())
    assert report.problems == [] and len(report.files) > 10


@pytest.mark.parametrize(("old", "new", "needle", "at", "rule"), [
    ("  newline: crlf", "  newlne: crlf", "newlne", "newlne", "unknown-key"),
    ("  birth:            {offset: 130, length: 7,  type: wareki,",
     "  birth:            {offset: 130, length: 7,  type: warek,", "type: warek", "type",
     "unknown-type"),
    ("  encoding: cp932", "  encoding: latin-9", "latin-9", "encoding", "unknown-encoding"),
    ("  shimei_alpha:     {offset: 383, length: 40,", "  shimei_alpha:     {offset: 393, length: 40,",
     "offset: 393", "offset", "field-past-record"),
    ("target: juki/v1", "target: juki/v9", "target:", "target", "schema-not-found"),
    ("  shimei:           shimei\n", "  shimei_x:         shimei\n", "shimei_x:", "shimei_x",
     "column-not-in-schema"),
    ("  atena_no:         atena_no\n", "", "columns:", "columns", "required-unmapped"),
    ("  shimei_kana:      {from: shimei_kana, kana: fullwidth}",
     "  shimei_kana:      {from: setai_order, kana: fullwidth}", "from: setai_order",
     "shimei_kana", "transform-type"),
    ("  jotai:            {offset: 48,  length: 2,", "  jotai:            {offset: 47,  length: 3,",
     "offset: 47,  length: 3", "{",
     "field-overlap"),
    ("  jotai:            {offset: 48,  length: 2,", "  jotai:            {offset: 49,  length: 1,",
     "offset: 49,  length: 1", "{", "field-gap"),
    ("  filler:           {offset: 423, length: 7,", "  filler:           {offset: 423, length: 5,",
     "record_length", "record_length",
     "record-length"),
])
def test_each_mapping_rule_fires_at_its_place(vendor, old, new, needle, at, rule):
    """At the line holding `needle`, the column where `at` starts."""
    path = vendor / "juki.yaml"
    edit(path, old, new)
    line = line_of(path, needle)
    col = path.read_text(encoding="utf-8").splitlines()[line - 1].index(at) + 1
    hits = [f for f in found(path) if f[3] == rule]
    assert hits and hits[0][:3] == ("juki.yaml", line, col), found(path)


def test_yaml_syntax_and_every_duplicate_key(vendor):
    path = vendor / "juki.yaml"
    edit(path, "version: 1\n", "version: 1\nversion: 2\n")
    edit(path, "  encoding: cp932\n", "  encoding: cp932\n  encoding: cp932\n")
    dupes = [f for f in found(path) if f[3] == "duplicate-key"]
    assert [d[1:3] for d in dupes] == [(line_of(path, "version: 2"), 1),
                                       (line_of(path, "encoding") + 1, 3)]
    edit(path, "version: 1\n", "version: [1\n")
    assert found(path)[0][1:] == (line_of(path, "version: 2"), 8, "yaml-syntax")


def test_several_problems_of_one_file_are_all_reported(vendor):
    path = vendor / "juki.yaml"
    edit(path, "  newline: crlf", "  newlne: crlf")
    edit(path, "type: wareki, lenient_calendar: true}\n  sex:",
         "type: warek, lenient_calendar: true}\n  sex:")
    edit(path, "  shimei:           shimei\n", "  shimei_x:         shimei\n")
    edit(path, "  kojin_no:         {offset: 35,  length: 12, type: digits}",
         "  kojin_no:         {offset: 35,  length: 12, type: digit}")
    rules = [f[3] for f in found(path)]
    assert rules.count("unknown-type") == 2
    assert {"unknown-key", "column-not-in-schema"} <= set(rules)


def test_did_you_mean_names_the_nearest_key(vendor):
    path = vendor / "juki.yaml"
    edit(path, "  newline: crlf", "  newlne: crlf")
    problem = check_paths([path]).problems[0]
    assert "Did you mean 'newline'?" in problem.hint_text("en")
    assert "'newline' のことですか" in problem.hint_text("ja")


def test_code_tables_duplicates_and_codes_the_standard_refuses(vendor):
    table = vendor / "codes" / "sex.csv"
    rows = table.read_text(encoding="utf-8").splitlines()
    table.write_text("\n".join([*rows, rows[1], "X,7"]) + "\n", encoding="utf-8")
    hits = found(vendor / "juki.yaml")
    assert ("sex.csv", len(rows) + 1, 1, "code-duplicate") in hits
    assert ("sex.csv", len(rows) + 2, 1, "code-not-allowed") in hits


def test_all_codes_warns_of_unreached_standard_codes(vendor):
    path = vendor / "juki.yaml"
    assert not [f for f in found(path) if f[3] == "code-unreached"]
    hits = [f for f in found(path, all_codes=True) if f[3] == "code-unreached"]
    assert ("juki.yaml", line_of(path, "  sex:              {from"), 3,
            "code-unreached") in hits


def test_gaiji_code_outside_the_user_defined_area(vendor):
    table = vendor / "gaiji.csv"
    table.write_text(table.read_text(encoding="utf-8") + "8140,亜\nFA40,亜\n", encoding="utf-8")
    hits = [f for f in found(vendor) if f[3] == "gaiji-area"]
    n = len(table.read_text(encoding="utf-8").splitlines())
    assert [h[:3] for h in hits] == [("gaiji.csv", n - 1, 1), ("gaiji.csv", n, 1)]


SCHEMA = """\
layout: town/v1
primary_key: [atena_no]
columns:
  - {name: atena_no, dtype: digits, required: true}
  - {name: Bad-Name, dtype: str}
  - {name: setai_no, dtype: digits, references: {layout: nowhere/v1, column: x}}
rules:
  - {name: r1, when: {missing_col: "1"}, require: [atena_no]}
"""


def test_schema_rules_unsafe_names_and_unknown_references(tmp_path):
    path = tmp_path / "v1.yaml"
    path.write_text(SCHEMA, encoding="utf-8")
    assert found(path) == [("v1.yaml", 5, 6, "sql-unsafe-name"),
                           ("v1.yaml", 6, 37, "schema-reference"),
                           ("v1.yaml", 8, 5, "schema-reference")]


def test_plan_with_a_missing_mapping_and_a_missing_input(tmp_path):
    path = tmp_path / "migration.yaml"
    path.write_text("migration: test\ninputs:\n"
                    "  - {mapping: vendor_a/nothing, input: a.dat}\n"
                    "  - {mapping: vendor_a/juki, input: b.dat}\n", encoding="utf-8")
    report = check_paths([path])
    got = [(p.line, p.col, p.rule, p.severity) for p in report.problems]
    assert got == [(3, 6, "plan-missing", "error"), (4, 30, "plan-input-missing", "warning")]
