"""Composition root of the maintenance service: its dependencies, built once per process."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy import Engine

from lineblocs_maintenance.relocation.ari import Ari
from lineblocs_maintenance.relocation.factory import StoreProvider, http_ari
from lineblocs_maintenance.relocation.relocate import Relocation
from lineblocs_maintenance.settings import MaintenanceSettings
from lineblocs_shared.clock import Clock, SystemClock
from lineblocs_shared.db.engine import make_engine
from lineblocs_shared.queue.runtime import ServiceRoot
from lineblocs_shared.settings import Settings, load
from lineblocs_shared.site_settings.cache import CachedSiteSettings


@dataclass(frozen=True)
class Maintenance(CachedSiteSettings):
    settings: Settings
    options: MaintenanceSettings
    engine: Engine
    clock: Clock
    stores: StoreProvider = field(compare=False)
    ari_override: Ari | None = field(default=None, compare=False)  # the demo's, a test's

    @cached_property
    def ari(self) -> Ari:
        """The ARI client, built on first use: purging logs needs no ARI settings."""
        return self.ari_override or http_ari(self.options)

    def relocation(self) -> Relocation:
        """What relocating a recording needs, with Lineblocs' current S3 settings."""
        options = self.options
        return Relocation(
            engine=self.engine,
            clock=self.clock,
            ari=self.ari,
            store=self.stores.for_site(self.site_settings()),
            allowed_hosts=frozenset(options.ari_hosts),
            max_attempts=options.recording_relocation_max_attempts,
            spool_bytes=options.recording_spool_memory_mb * 1024 * 1024,
        )


ROOT: ServiceRoot[Maintenance] = ServiceRoot("maintenance")
install = ROOT.install
current = ROOT.current


def build(
    settings: Settings,
    *,
    engine: Engine | None = None,
    clock: Clock | None = None,
    options: MaintenanceSettings | None = None,
    ari: Ari | None = None,
) -> Maintenance:
    """On `engine` (a worker's), or on an engine of its own (a CLI command)."""
    options = options or load(MaintenanceSettings)
    return Maintenance(
        settings=settings,
        options=options,
        engine=engine if engine is not None else make_engine(settings.database_url, pool_size=1),
        clock=clock or SystemClock(),
        stores=StoreProvider(options, settings),
        ari_override=ari,
    )
