"""Benchmark fixtures: one generated resident file per session, sized by --bench-rows.

The test command runs these once with timing disabled (addopts has --benchmark-disable) so they
never rot; measure with `python -m pytest benchmarks --benchmark-enable --bench-rows 1000000`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from oracle import Reference, reference_run

from migrate.layouts import load_mapping
from migrate.synth.generate import generate


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--bench-rows", type=int, default=20_000,
                     help="data records in the generated benchmark file")


@pytest.fixture(scope="session")
def bench_mapping():
    return load_mapping("vendor_a/juki")


@pytest.fixture(scope="session")
def bench_file(tmp_path_factory, bench_mapping, request) -> Path:
    rows = request.config.getoption("--bench-rows")
    path = tmp_path_factory.mktemp("bench") / "juki.dat"
    generate(bench_mapping, path, rows, seed=11, defects=max(rows // 1000, 1))
    return path


@pytest.fixture(scope="session")
def reference(tmp_path_factory, bench_mapping, bench_file) -> Reference:
    """The plain test path on the benchmark file: what every stage's output is checked against."""
    return reference_run(bench_mapping, bench_file, tmp_path_factory.mktemp("reference") / "out")
