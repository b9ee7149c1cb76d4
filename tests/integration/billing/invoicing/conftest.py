"""Fixtures of the invoicing tests: the Lineblocs schema with our tables, on each database."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from lineblocs_shared.db import migrate


@pytest.fixture(params=["mariadb", "sqlite"])
def sql_engine(request: pytest.FixtureRequest) -> Engine:
    """The real MariaDB (reference schema) and the demo's embedded SQLite: the SQL must agree."""
    name = "jobs_engine" if request.param == "mariadb" else "sqlite_jobs_engine"
    engine: Engine = request.getfixturevalue(name)
    return engine


@pytest.fixture
def any_jobs_engine(any_lineblocs_engine: Engine) -> Engine:
    """Both schema variants (INT or DOUBLE(8,2) money, either plan price column) + our tables."""
    migrate.upgrade(any_lineblocs_engine)
    return any_lineblocs_engine


@pytest.fixture
def legacy_jobs_engine(legacy_lineblocs_engine: Engine) -> Engine:
    migrate.upgrade(legacy_lineblocs_engine)
    return legacy_lineblocs_engine
