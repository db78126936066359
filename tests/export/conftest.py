"""Fixtures of the export tests: one converted vendor_a set and its package, made once."""

from __future__ import annotations

from pathlib import Path

import pytest

from migrate.export.package import ExportOptions, export


@pytest.fixture(scope="session")
def plan_out(tmp_path_factory) -> Path:
    """A five-file vendor_a set, converted (files only)."""
    from migrate.layouts.plan import load_plan
    from migrate.run.plan import run_plan
    from migrate.synth.sets import generate_set

    root = tmp_path_factory.mktemp("set")
    generate_set(root / "input", 300, seed=3, defects=3)
    run_plan(load_plan(root / "input" / "migration.yaml"), root / "out", db_url="none",
             workers=1)
    return root / "out"


@pytest.fixture(scope="session")
def package(plan_out, tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("pkg") / "package"
    export(ExportOptions(plan_out, target, info={"External-Identifier": "R7-契約-001"}))
    return target


@pytest.fixture(scope="session")
def db_out(tmp_path_factory) -> Path:
    """A smaller vendor_a set converted into its SQLite database (the default --db)."""
    from migrate.layouts.plan import load_plan
    from migrate.run.plan import run_plan
    from migrate.synth.sets import generate_set

    root = tmp_path_factory.mktemp("dbset")
    generate_set(root / "input", 150, seed=4, defects=0)
    run_plan(load_plan(root / "input" / "migration.yaml"), root / "out", workers=1)
    return root / "out"
