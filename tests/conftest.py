"""Shared fixtures: the bundled mapping and small generated inputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from migrate.layouts import Mapping, load_mapping

ROOT = Path(__file__).resolve().parent.parent


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
