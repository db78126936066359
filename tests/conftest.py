"""Shared fixtures: the bundled mapping and small generated inputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from migrate.layouts import Mapping, load_mapping

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def runner(monkeypatch):
    """The CLI in English, whatever the machine's locale."""
    from click.testing import CliRunner

    monkeypatch.setenv("LANG", "C.UTF-8")
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(var, raising=False)
    return CliRunner()


@pytest.fixture
def lang(monkeypatch, request) -> str:
    """The user's language for one test, parametrized indirectly with a LANG value
    (`@pytest.mark.parametrize("lang", ["en_US.UTF-8", "ja_JP.UTF-8"], indirect=True)`):
    'en' or 'ja'."""
    monkeypatch.setenv("LANG", request.param)
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(var, raising=False)
    return request.param[:2]


@pytest.fixture
def inline_mapping(tmp_path: Path):
    """A mapping and its target schema written from YAML text (tests of one feature)."""

    def make(schema_yaml: str, mapping_yaml: str) -> Mapping:
        (tmp_path / "schema.yaml").write_text(schema_yaml, encoding="utf-8")
        (tmp_path / "mapping.yaml").write_text(mapping_yaml, encoding="utf-8")
        return load_mapping(tmp_path / "mapping.yaml")

    return make


@pytest.fixture
def convert():
    """Run one file through the pipeline (one process, files only); returns the result, the
    standard rows and the rejects, all read back as text. A run that does not reconcile
    publishes no rows (None); its rejects are in its failed-run folder."""
    import polars as pl

    from migrate.run.pipeline import RunOptions, run

    def go(mapping: Mapping, path: Path, out: Path, chunk_bytes: int = 1 << 20):
        result = run(RunOptions(mapping, path, out, db_url="none", chunk_bytes=chunk_bytes,
                                workers=1))
        folder = result.run_json.parent
        rows = (pl.read_csv(folder / f"{mapping.target.name}.csv", infer_schema=False)
                if result.exit_code == 0 else None)
        rejects = pl.read_csv(folder / "rejects.csv", infer_schema=False)
        return result, rows, rejects

    return go


@pytest.fixture(scope="session")
def juki_mapping() -> Mapping:
    return load_mapping("vendor_a/juki")


@pytest.fixture
def mapping_copy(tmp_path: Path):
    """Copy the bundled vendor_a mapping folder (and schema) somewhere editable."""
    import shutil

    def make(edit=None) -> Path:
        target = tmp_path / "town"
        shutil.copytree(ROOT / "mappings" / "vendor_a", target / "vendor_a")
        shutil.copytree(ROOT / "schemas", target / "schemas")
        path = target / "vendor_a" / "juki.yaml"
        text = path.read_text(encoding="utf-8")
        text = text.replace("target: juki/v1", "target: ../schemas/juki/v1.yaml")
        if edit:
            text = edit(text)
        path.write_text(text, encoding="utf-8")
        return path

    return make
