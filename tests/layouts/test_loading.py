"""Reading layout YAML safely: names that become file names or SQL identifiers are refused at
load with file:line, and hostile YAML (not UTF-8, deep nesting, alias bombs, huge files) ends in
a LayoutError instead of a crash or a hang."""

from __future__ import annotations

from pathlib import Path

import pytest

from migrate.errors import LayoutError, format_error
from migrate.layouts import load_mapping, load_schema
from migrate.layouts.loading import _read_yaml
from migrate.layouts.yamlpos import MAX_DEPTH, guess_encoding

SCHEMA = """\
layout: {layout}
title: {{ja: テスト, en: Test}}
primary_key: [atena_no]
columns:
  - {{name: atena_no, ja: 宛名番号, en: Person id, dtype: digits, max_length: 8, required: true}}
  - name: {column}
    ja: 氏名
    en: Name
    dtype: str
    max_length: 10
"""


def schema_file(tmp_path: Path, layout: str = "list_test/v1", column: str = "shimei") -> Path:
    path = tmp_path / "schema.yaml"
    path.write_text(SCHEMA.format(layout=layout, column=column), encoding="utf-8")
    return path


def test_plain_names_load(tmp_path):
    schema = load_schema(schema_file(tmp_path))
    assert schema.id == "list_test/v1" and schema.column_names == ["atena_no", "shimei"]


@pytest.mark.parametrize("column", ["'a\"b'", "'x..y'", "'../etc'", "Shimei", "'名前'",
                                    "'a b'", "_hidden", "'a;drop'", "a" * 64, "1st"])
def test_unsafe_column_name_refused_at_its_line(tmp_path, column):
    with pytest.raises(LayoutError) as caught:
        load_schema(schema_file(tmp_path, column=column))
    error = caught.value
    assert error.line == 6 and error.file == tmp_path / "schema.yaml"
    assert "is not a safe name" in format_error(error, "en")


@pytest.mark.parametrize("layout", ["'../juki/v1'", "'ju\"ki/v1'", "'juki.x/v1'", "'Juki/v1'",
                                    "'juki/v1/x'", "'juki/../v1'", "'/juki'", "'a' ", "'x' "])
def test_unsafe_layout_id_refused(tmp_path, layout):
    if layout.strip() in ("'a'", "'x'"):  # a plain name without a version is fine
        assert load_schema(schema_file(tmp_path, layout=layout)).name == layout.strip("' ")
        return
    with pytest.raises(LayoutError) as caught:
        load_schema(schema_file(tmp_path, layout=layout))
    assert caught.value.line == 1 and "is not a safe name" in str(caught.value)


def test_layout_name_leaves_room_for_derived_sql_names(tmp_path):
    load_schema(schema_file(tmp_path, layout="a" * 40 + "/v1"))
    with pytest.raises(LayoutError):
        load_schema(schema_file(tmp_path, layout="a" * 41 + "/v1"))


def test_unsafe_mapping_id_refused(mapping_copy):
    path = mapping_copy(lambda t: t.replace("mapping: vendor_a/juki", "mapping: ../juki"))
    with pytest.raises(LayoutError) as caught:
        load_mapping(path)
    assert caught.value.line == 5 and "mapping id '../juki'" in str(caught.value)


def test_reference_to_a_layout_with_an_unsafe_id_refused(tmp_path):
    (tmp_path / "other.yaml").write_text(SCHEMA.format(layout="'ot\"her/v1'", column="x"),
                                         encoding="utf-8")
    text = SCHEMA.format(layout="list_test/v1", column="shimei").replace(
        "required: true}", "required: true, references: {layout: other.yaml, "
                           "column: atena_no}}")
    (tmp_path / "schema.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(LayoutError) as caught:
        load_schema(tmp_path / "schema.yaml")
    assert caught.value.file == tmp_path / "other.yaml"


@pytest.mark.parametrize(("dtype", "key"), [("date", "max_length: 10"), ("int", "length: 3"),
                                            ("str", "precision: 5"), ("str", "min: 1"),
                                            ("flag", "checks: [katakana]")])
def test_keys_that_do_not_fit_the_dtype_refused(tmp_path, dtype, key):
    text = SCHEMA.format(layout="list_test/v1", column="shimei").replace(
        "    dtype: str\n    max_length: 10", f"    dtype: {dtype}\n    {key}")
    (tmp_path / "schema.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(LayoutError, match="does not apply to a"):
        load_schema(tmp_path / "schema.yaml")


@pytest.mark.parametrize("pattern", [r"(?<=a)b", r"(?<!a)b", r"a(?=b)", r"a(?!b)", r"(a)\1",
                                     r"(?P<x>a)(?P=x)", r"a\Z", r"(?>a)", r"a(?#note)",
                                     r"a{,3}", r"\N{DIGIT ONE}"])
def test_pattern_the_checks_cannot_run_refused(tmp_path, pattern):
    """Python's re accepts each of these, polars (which runs the checks) does not."""
    import polars as pl

    with pytest.raises(Exception):  # noqa: B017 - polars' own error type varies
        pl.Series(["ab"]).str.contains(pattern)
    text = SCHEMA.format(layout="list_test/v1", column="shimei").replace(
        "    max_length: 10", "    max_length: 10\n    checks:\n"
        f"      - {{check: pattern, pattern: '{pattern}'}}")
    (tmp_path / "schema.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(LayoutError, match="does not support"):
        load_schema(tmp_path / "schema.yaml")


# ---------------------------------------------------------------- hostile YAML


def test_not_utf8_names_its_encoding(mapping_copy):
    path = mapping_copy()
    path.write_bytes(path.read_text(encoding="utf-8").encode("cp932"))
    with pytest.raises(LayoutError) as caught:
        load_mapping(path)
    assert "looks like cp932" in str(caught.value) and caught.value.line == 1


@pytest.mark.parametrize("encoding", ["cp932", "euc_jp", "utf-16"])
def test_guess_encoding(encoding):
    text = "# 住民記録 ｼﾞｭｳﾐﾝ\nmapping: x\ntitle: {ja: 宛名番号と氏名}\n" * 3
    assert guess_encoding(text.encode(encoding)) == encoding


def test_deep_nesting_refused(tmp_path):
    path = tmp_path / "deep.yaml"
    path.write_text("a: " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    with pytest.raises(LayoutError, match=f"deeper than {MAX_DEPTH}"):
        load_schema(path)


def test_alias_bomb_refused(tmp_path):
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 12)]
    lines.append("layout: *a11")
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(LayoutError, match="aliases expand"):
        load_schema(path)


def test_alias_chain_nesting_refused(tmp_path):
    """Each anchor nests the one before: few nodes, but thousands of levels once expanded
    (str() of it overflowed Python's stack)."""
    lines = ["layout: &a0 x", "title:", "  ja: &a1 " + "[" * 50 + "*a0" + "]" * 50]
    lines += [f"  x{i}: &a{i} " + "[" * 50 + f"*a{i - 1}" + "]" * 50 for i in range(2, 40)]
    lines += ["  en: *a39", "columns: [{name: a, dtype: str}]"]
    path = tmp_path / "chain.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(LayoutError, match="aliases nest deeper than"):
        load_schema(path)


def test_small_aliases_still_work(tmp_path):
    text = SCHEMA.format(layout="list_test/v1", column="shimei")
    text = text.replace("max_length: 8,", "max_length: &len 8,").replace(
        "max_length: 10", "max_length: *len")
    (tmp_path / "schema.yaml").write_text(text, encoding="utf-8")
    assert load_schema(tmp_path / "schema.yaml").columns[1].max_length == 8


def test_recursive_alias_refused(tmp_path):
    path = tmp_path / "loop.yaml"
    path.write_text("layout: &a [*a]\n", encoding="utf-8")
    with pytest.raises(LayoutError, match="recursive"):
        load_schema(path)


def test_device_refused_without_reading_it():
    with pytest.raises(LayoutError, match="device or a pipe"):
        _read_yaml(Path("/dev/zero"))
