"""Fixtures and hooks shared by tests/ and benchmarks/: the databases a run can load into, no
silent skips under CI, and the Hypothesis profiles.

PostgreSQL tests need a server named by MIGRATE_TEST_PG_URL (.ci/postgres.sh starts one and sets
it). Without it they are skipped on a workstation — but under CI (the CI variable is set) they
fail, so CI can never skip them silently. The same holds for every test: under CI a test that
would skip fails instead (unless its reason is in ALLOWED_CI_SKIPS), and the summary lists the
skip reasons of the run.

Hypothesis (tests/hypothesis-examples/README.md): under CI the profile `migrate-ci` runs every
property on a fixed seed (0) and replays the committed example database read-only, so a CI run
is reproducible; .ci/run then runs the properties once more with `migrate-ci-fresh`, a new seed
(printed) and at most FRESH_EXAMPLES examples each, so CI also keeps looking for new failures.
"""

from __future__ import annotations

import os
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import settings
from hypothesis.database import DirectoryBasedExampleDatabase, ReadOnlyDatabase
from sqlalchemy.engine import make_url

PG_ENV = "MIGRATE_TEST_PG_URL"
CI = bool(os.environ.get("CI"))
ROOT = Path(__file__).resolve().parent

# ---------------------------------------------------------------------- Hypothesis profiles

EXAMPLES = ROOT / "tests" / "hypothesis-examples"
FRESH_EXAMPLES = 25  # per property in the fresh-seed pass
CI_SEED = "0"
settings.register_profile("migrate-ci", database=ReadOnlyDatabase(
    DirectoryBasedExampleDatabase(EXAMPLES)), derandomize=False, deadline=None,
    print_blob=True)
settings.register_profile("migrate-ci-fresh", settings.get_profile("migrate-ci"))
settings.register_profile("migrate-record", database=DirectoryBasedExampleDatabase(EXAMPLES),
                          deadline=None)
if CI:
    settings.load_profile("migrate-ci")  # --hypothesis-profile still overrides it


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Under CI, properties run on a fixed seed unless --hypothesis-seed names another (set
    before Hypothesis's own plugin reads the option)."""
    if CI and config.getoption("hypothesis_seed", None) is None:
        config.option.hypothesis_seed = CI_SEED


def _profile_name() -> str | None:
    """The loaded Hypothesis profile (its public getter is newer than our lowest Hypothesis)."""
    getter = getattr(settings, "get_current_profile_name", None)
    return getter() if getter is not None else getattr(settings, "_current_profile", None)


def pytest_report_header(config: pytest.Config) -> str | None:
    seed = config.getoption("hypothesis_seed", None)
    if seed is None:
        return None
    return (f"hypothesis profile {_profile_name()!r}, seed {seed} "
            f"(reproduce with --hypothesis-seed={seed})")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The fresh-seed pass runs at most FRESH_EXAMPLES examples per property, whatever the
    test's own @settings ask for (an explicit max_examples outranks any profile)."""
    if _profile_name() != "migrate-ci-fresh":
        return
    for item in items:
        test = getattr(item, "obj", None)
        own = getattr(test, "_hypothesis_internal_use_settings", None)
        if own is not None and own.max_examples > FRESH_EXAMPLES:
            test._hypothesis_internal_use_settings = settings(own, max_examples=FRESH_EXAMPLES)


# ---------------------------------------------------------------------- no silent skips

ALLOWED_CI_SKIPS: tuple[str, ...] = ()  # substrings of skip reasons CI accepts (none)
_SKIPS: Counter[str] = Counter()  # reason -> tests, for the summary
_FAILED_SKIPS: Counter[str] = Counter()


def _skip_reason(report: pytest.CollectReport | pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        reason = str(longrepr[2])
    else:
        reason = str(longrepr)
    return reason.removeprefix("Skipped: ")


def _no_silent_skip(report: pytest.CollectReport | pytest.TestReport) -> None:
    """Count a skip; under CI turn it into a failure unless its reason is allowed."""
    if not report.skipped or hasattr(report, "wasxfail"):
        return
    reason = _skip_reason(report)
    if not CI or any(allowed in reason for allowed in ALLOWED_CI_SKIPS):
        _SKIPS[reason] += 1
        return
    _FAILED_SKIPS[reason] += 1
    report.outcome = "failed"
    report.longrepr = (f"this test would be skipped under CI ({reason}); CI runs every test: "
                       f"install or start what it needs, or add the reason to ALLOWED_CI_SKIPS "
                       f"in conftest.py")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    _no_silent_skip(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Iterator[None]:
    outcome = yield
    _no_silent_skip(outcome.get_result())


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    """List every skip reason of the run, and under CI the would-be skips that failed."""
    if not _SKIPS and not _FAILED_SKIPS:
        return
    terminalreporter.section("skip reasons")
    for reason, n in _SKIPS.most_common():
        terminalreporter.line(f"skipped ({n}): {reason}")
    for reason, n in _FAILED_SKIPS.most_common():
        terminalreporter.line(f"FAILED under CI instead of skipped ({n}): {reason}")


def pg_server_url() -> str:
    """The PostgreSQL URL to test against, or skip (workstation) / fail (CI) without one."""
    url = os.environ.get(PG_ENV)
    if not url:
        if os.environ.get("CI"):
            pytest.fail(f"{PG_ENV} is not set under CI: .ci/run must source .ci/postgres.sh")
        pytest.skip(f"no PostgreSQL server: set {PG_ENV} or source .ci/postgres.sh")
    return url


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    server = pg_server_url()
    name = f"migrate_t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """The same test against an SQLite file and a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    return request.getfixturevalue("pg_url")
