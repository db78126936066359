"""The JSON Schemas shipped for editors are the ones generated from the loaders' key
declarations, and every bundled mapping and schema validates against them."""

from __future__ import annotations

import json

import jsonschema
import pytest

from migrate.check.jsonschema import KINDS, json_schema, json_schema_text, shipped_path
from migrate.layouts.bundled import bundled_dir
from migrate.layouts.yamlpos import load_yaml


@pytest.mark.parametrize("kind", KINDS)
def test_shipped_schema_is_current(kind):
    assert shipped_path(kind).read_text(encoding="utf-8") == json_schema_text(kind), (
        f"regenerate: migrate check --json-schema {kind} > {shipped_path(kind)}")
    jsonschema.Draft7Validator.check_schema(json_schema(kind))


@pytest.mark.parametrize(("kind", "folder"), [("mapping", "mappings"), ("schema", "schemas")])
def test_bundled_files_validate(kind, folder):
    validator = jsonschema.Draft7Validator(json_schema(kind))
    files = sorted(bundled_dir(folder).rglob("*.yaml"))
    assert files
    for path in files:
        data = json.loads(json.dumps(load_yaml(path), default=str))  # YAML dates as text
        assert not list(validator.iter_errors(data)), path


def test_a_key_the_loader_refuses_the_schema_refuses():
    validator = jsonschema.Draft7Validator(json_schema("plan"))
    assert not validator.is_valid({"inputs": [{"mapping": "m", "input": "a", "inptu": 1}]})
    assert validator.is_valid({"inputs": [{"mapping": "m", "input": "a"}]})


def test_the_readme_batch_file_validates_and_a_misspelt_run_key_does_not():
    validator = jsonschema.Draft7Validator(json_schema("batch"))
    batch = {"batch": "2026 rehearsal", "runs": [
        {"name": "nagai", "plan": "nagai/migration.yaml"},
        {"name": "sakata", "plan": "sakata/migration.yaml", "db": "postgresql+psycopg://m@db/s"},
        {"name": "tsuruoka_juki", "mapping": "vendor_a/juki", "input": "tsuruoka/juki.dat"}]}
    assert validator.is_valid(batch)
    batch["runs"][0]["town"] = "x"  # the loader refuses it too (tests/run/test_batch.py)
    assert not validator.is_valid(batch)
