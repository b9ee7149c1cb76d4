"""Fixtures of the periodic-job tests: the job-run ledger on MariaDB and on SQLite."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine


@pytest.fixture(params=["mariadb", "sqlite"])
def ledger_engine(request: pytest.FixtureRequest) -> Engine:
    """Our lbj_* tables on the real MariaDB, and on the embedded SQLite database."""
    name = "jobs_engine" if request.param == "mariadb" else "sqlite_jobs_engine"
    engine: Engine = request.getfixturevalue(name)
    return engine
