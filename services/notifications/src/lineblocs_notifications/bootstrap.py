"""Composition root of the notifications service: its dependencies, built once per process."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property

from sqlalchemy import Engine

from lineblocs_notifications.delivery.factory import TransportProvider
from lineblocs_notifications.ledger import Ledger
from lineblocs_notifications.optouts import OptOuts
from lineblocs_notifications.settings import NotificationSettings
from lineblocs_shared.clock import Clock, SystemClock
from lineblocs_shared.db.engine import make_engine
from lineblocs_shared.queue.runtime import ServiceRoot
from lineblocs_shared.settings import Settings, load
from lineblocs_shared.site_settings.cache import CachedSiteSettings


@dataclass(frozen=True)
class Notifications(CachedSiteSettings):
    settings: Settings
    options: NotificationSettings
    engine: Engine
    clock: Clock
    transports: TransportProvider = field(compare=False)

    @cached_property
    def ledger(self) -> Ledger:
        lease = timedelta(seconds=self.options.notification_lease_s)
        return Ledger(self.engine, self.clock, lease=lease)

    @cached_property
    def optouts(self) -> OptOuts:
        return OptOuts(self.engine)


ROOT: ServiceRoot[Notifications] = ServiceRoot("notifications")
install = ROOT.install
current = ROOT.current


def build(
    settings: Settings,
    *,
    engine: Engine | None = None,
    clock: Clock | None = None,
    options: NotificationSettings | None = None,
) -> Notifications:
    """On `engine` (a worker's), or on an engine of its own (a CLI command)."""
    if engine is None:
        engine = make_engine(settings.database_url, pool_size=1)
    options = options or load(NotificationSettings)
    return Notifications(
        settings=settings,
        options=options,
        engine=engine,
        clock=clock or SystemClock(),
        transports=TransportProvider(options, settings),
    )
