"""Fixtures of the maintenance tests: both Lineblocs schema variants with our tables, and the
maintenance service's dependencies on them at a fixed instant."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, text

from lineblocs_maintenance import bootstrap
from lineblocs_maintenance.bootstrap import Maintenance
from lineblocs_maintenance.settings import MaintenanceSettings
from lineblocs_shared.clock import FixedClock
from lineblocs_shared.db import migrate
from lineblocs_shared.settings import load_settings
from tests.factories import whole_seconds

NOW = whole_seconds()
DAY = timedelta(days=1)


@pytest.fixture
def engine(any_lineblocs_engine: Engine) -> Engine:
    """Fresh and legacy Lineblocs schemas, each with our lbj_* tables."""
    migrate.upgrade(any_lineblocs_engine)
    return any_lineblocs_engine


MakeDeps = Callable[..., Maintenance]


@pytest.fixture
def make_deps(engine: Engine) -> MakeDeps:
    def make(**options: Any) -> Maintenance:
        deps = bootstrap.build(load_settings(), engine=engine, clock=FixedClock(NOW))
        return Maintenance(
            settings=deps.settings,
            options=MaintenanceSettings(**options),
            engine=engine,
            clock=deps.clock,
        )

    return make


def count(engine: Engine, table: str, where: str = "1=1", **params: Any) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(text(f"SELECT COUNT(*) FROM {table} WHERE {where}"), params).scalar_one()
        )
