"""Composition root of the billing service: its dependencies, built once per process.

The worker module builds them on the process's one engine (`lineblocs_shared.queue.runtime`)
and installs them for the actors; the CLI builds its own for one command; the demo and the
tests hand in their clock, gateway and locks.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from sqlalchemy import Engine

from lineblocs_billing.settings import BillingSettings
from lineblocs_billing.settling.gateways import GatewayProvider, SettingsGateways
from lineblocs_billing.settling.locks import PeriodLocks, period_locks_for
from lineblocs_shared.clock import Clock, SystemClock
from lineblocs_shared.db import make_engine
from lineblocs_shared.payments import load_payment_settings
from lineblocs_shared.queue.runtime import ServiceRoot
from lineblocs_shared.settings import Settings, load
from lineblocs_shared.site_settings.cache import CachedSiteSettings


@dataclass(frozen=True)
class Billing(CachedSiteSettings):
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


ROOT: ServiceRoot[Billing] = ServiceRoot("billing")
install = ROOT.install
current = ROOT.current


def build(
    settings: Settings,
    *,
    engine: Engine | None = None,
    clock: Clock | None = None,
    pool_size: int | None = None,
    gateways: GatewayProvider | None = None,
) -> Billing:
    """On `engine` (a worker's), or on an engine of its own (a CLI command)."""
    if engine is None:
        engine = make_engine(settings.database_url, pool_size=pool_size or settings.db_pool_size)
    return Billing(
        settings=settings,
        options=load(BillingSettings),
        engine=engine,
        clock=clock or SystemClock(),
        # Read now, so a bad PAYMENT_* value stops the worker at start, not at the first charge.
        gateways=gateways or SettingsGateways(load_payment_settings()),
        locks=period_locks_for(engine),
    )
