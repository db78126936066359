"""Fixtures shared by tests/ and benchmarks/: the databases a run can load into.

PostgreSQL tests need a server named by MIGRATE_TEST_PG_URL (.ci/postgres.sh starts one and sets
it). Without it they are skipped on a workstation — but under CI (the CI variable is set) they
fail, so CI can never skip them silently.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

PG_ENV = "MIGRATE_TEST_PG_URL"


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
