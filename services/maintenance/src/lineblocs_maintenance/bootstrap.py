"""Composition root of the maintenance service: its dependencies, built once per process."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from lineblocs_maintenance.settings import MaintenanceSettings
from lineblocs_shared.clock import Clock, SystemClock
from lineblocs_shared.queue.runtime import ServiceRoot
from lineblocs_shared.settings import Settings, load


@dataclass(frozen=True)
class Maintenance:
    settings: Settings
    options: MaintenanceSettings
    engine: Engine
    clock: Clock


ROOT: ServiceRoot[Maintenance] = ServiceRoot("maintenance")
install = ROOT.install
current = ROOT.current


def build(settings: Settings, *, engine: Engine, clock: Clock | None = None) -> Maintenance:
    return Maintenance(
        settings=settings,
        options=load(MaintenanceSettings),
        engine=engine,
        clock=clock or SystemClock(),
    )
