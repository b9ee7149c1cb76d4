"""Composition root of the maintenance service: builds its dependencies once per process."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from lineblocs_maintenance.settings import MaintenanceSettings
from lineblocs_shared.clock import Clock, SystemClock
from lineblocs_shared.db import make_engine
from lineblocs_shared.settings import Settings


@dataclass(frozen=True)
class Maintenance:
    settings: Settings
    options: MaintenanceSettings
    engine: Engine
    clock: Clock


_current: Maintenance | None = None


def build(settings: Settings, *, clock: Clock | None = None) -> Maintenance:
    return Maintenance(
        settings=settings,
        options=MaintenanceSettings(),
        engine=make_engine(settings.database_url, pool_size=settings.db_pool_size),
        clock=clock or SystemClock(),
    )


def install(deps: Maintenance) -> None:
    global _current
    _current = deps


def current() -> Maintenance:
    if _current is None:
        raise RuntimeError(
            "maintenance dependencies not installed: import lineblocs_maintenance.worker"
        )
    return _current
