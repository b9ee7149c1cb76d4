"""Composition root of the billing service: builds its dependencies once per process."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from sqlalchemy import Engine

from lineblocs_billing.gateways import GatewayProvider, SettingsGateways
from lineblocs_billing.locks import PeriodLocks, period_locks_for
from lineblocs_billing.settings import BillingSettings
from lineblocs_shared.clock import Clock, SystemClock
from lineblocs_shared.db import make_engine
from lineblocs_shared.lineblocs_settings import LineblocsSettings
from lineblocs_shared.lineblocs_settings_cache import SettingsCache
from lineblocs_shared.payments import load_payment_settings
from lineblocs_shared.settings import Settings


@dataclass(frozen=True)
class Billing:
    settings: Settings
    options: BillingSettings
    engine: Engine
    clock: Clock
    # None: built from PAYMENT_* settings and Lineblocs' own at each run (tests give one).
    gateways: GatewayProvider | None = None
    # None: chosen by the database (GET_LOCK on MariaDB, in memory for SQLite).
    locks: PeriodLocks | None = None

    @cached_property
    def gateway_provider(self) -> GatewayProvider:
        return self.gateways or SettingsGateways(load_payment_settings())

    @cached_property
    def period_locks(self) -> PeriodLocks:
        return self.locks or period_locks_for(self.engine)

    @cached_property
    def _lineblocs_cache(self) -> SettingsCache:
        return SettingsCache(self.engine, ttl_s=self.options.lineblocs_settings_ttl_s)

    def lineblocs(self) -> LineblocsSettings:
        """Lineblocs' own settings, at most LINEBLOCS_SETTINGS_TTL_S old."""
        return self._lineblocs_cache.current()


_current: Billing | None = None


def build(
    settings: Settings,
    *,
    clock: Clock | None = None,
    pool_size: int | None = None,
    gateways: GatewayProvider | None = None,
) -> Billing:
    engine = make_engine(settings.database_url, pool_size=pool_size or settings.db_pool_size)
    return Billing(
        settings=settings,
        options=BillingSettings(),
        engine=engine,
        clock=clock or SystemClock(),
        # Read now, so a bad PAYMENT_* value stops the worker at start, not at the first charge.
        gateways=gateways or SettingsGateways(load_payment_settings()),
        locks=period_locks_for(engine),
    )


def install(deps: Billing) -> None:
    global _current
    _current = deps


def current() -> Billing:
    if _current is None:
        raise RuntimeError("billing dependencies not installed: import lineblocs_billing.worker")
    return _current
