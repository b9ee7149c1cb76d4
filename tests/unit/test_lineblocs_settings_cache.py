"""A billing worker's copy of Lineblocs' settings: shared for `ttl_s`, never read mid-transaction.

Embedded SQLite (the demo's database): its writer lock makes a settings read inside another
connection's open write transaction wait, which is exactly what a preloaded reader avoids.
"""

from __future__ import annotations

from sqlalchemy import Engine, delete, event
from sqlmodel import Session, col

from lineblocs_shared.db.uow import UnitOfWork
from lineblocs_shared.models.settings_store import CustomizationsKVStore
from lineblocs_shared.site_settings.cache import SettingsCache


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _set_currency(engine: Engine, currency: str) -> None:
    with Session(engine) as session:
        kv = CustomizationsKVStore
        session.execute(delete(kv).where(col(kv.key) == "default_currency"))
        session.add(kv.of("default_currency", currency))
        session.commit()


def _count_selects(engine: Engine) -> list[str]:
    seen: list[str] = []

    def record(conn: object, cursor: object, statement: str, *_: object) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    return seen


def test_a_change_is_seen_once_the_copy_is_ttl_old(sqlite_jobs_engine: Engine) -> None:
    engine = sqlite_jobs_engine
    _set_currency(engine, "usd")
    ticks = Ticks()
    cache = SettingsCache(engine, ttl_s=30, monotonic=ticks)
    assert cache.current().default_currency == "USD"

    _set_currency(engine, "eur")
    ticks.now += 29.9
    assert cache.current().default_currency == "USD"  # still the worker's copy
    ticks.now += 0.1
    assert cache.current().default_currency == "EUR"


def test_zero_ttl_reads_for_every_call(sqlite_jobs_engine: Engine) -> None:
    engine = sqlite_jobs_engine
    _set_currency(engine, "usd")
    cache = SettingsCache(engine, ttl_s=0)
    assert cache.current().default_currency == "USD"
    _set_currency(engine, "gbp")
    assert cache.current().default_currency == "GBP"


def test_a_held_copy_answers_without_a_query_inside_an_open_write_transaction(
    sqlite_jobs_engine: Engine,
) -> None:
    engine = sqlite_jobs_engine
    _set_currency(engine, "usd")
    cache = SettingsCache(engine, ttl_s=30)
    settings = cache.current()
    selects = _count_selects(engine)

    with UnitOfWork(engine) as uow:
        uow.session.add(CustomizationsKVStore.of("contact_email", "billing@example.com"))
        uow.session.flush()  # this connection now holds SQLite's writer lock
        # Every billing setting, legacy fallbacks included, from memory: a query on another
        # connection here would wait for the lock this transaction holds.
        values = (
            settings.payment_gateway,
            settings.default_currency,
            settings.billing_retry_enabled,
            settings.billing_num_retries,
            settings.invoice_due_date_enabled,
            settings.invoice_due_num_days,
            settings.grace_period_billing_days,
        )
        uow.commit()

    assert values[1] == "USD"
    assert selects == []
