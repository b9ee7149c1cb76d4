"""Composition root of the billing service: builds its dependencies once per process."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from lineblocs_billing.settings import BillingSettings
from lineblocs_shared.clock import Clock, SystemClock
from lineblocs_shared.db import make_engine
from lineblocs_shared.settings import Settings


@dataclass(frozen=True)
class Billing:
    settings: Settings
    options: BillingSettings
    engine: Engine
    clock: Clock


_current: Billing | None = None


def build(
    settings: Settings, *, clock: Clock | None = None, pool_size: int | None = None
) -> Billing:
    return Billing(
        settings=settings,
        options=BillingSettings(),
        engine=make_engine(settings.database_url, pool_size=pool_size or settings.db_pool_size),
        clock=clock or SystemClock(),
    )


def install(deps: Billing) -> None:
    global _current
    _current = deps


def current() -> Billing:
    if _current is None:
        raise RuntimeError("billing dependencies not installed: import lineblocs_billing.worker")
    return _current
