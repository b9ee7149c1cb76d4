"""One settler per billing period at a time, across threads, processes and machines.

Two copies of a message for the same period (a re-run of the distributor, a redelivery racing a
retry, the dunning sweep) could otherwise drive the same payment attempt at the same moment.
Stripe folds those into one by its idempotency keys; Braintree has none, and two concurrent
"find, else create" would authorize twice. The lock is held around the whole settling, gateway
call included, so a period's attempt is only ever driven by one delivery.

MariaDB: `GET_LOCK` on a connection of its own. The server releases it when that connection ends,
so a SIGKILLed worker never leaves a period locked. SQLite (the embedded demo): one process, so a
lock per period in memory. `hold` never waits: a period held elsewhere yields False, and the
caller retries later (its message's backoff).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol

from sqlalchemy import Engine

log = logging.getLogger(__name__)


class PeriodLocks(Protocol):
    def hold(self, period_id: int) -> AbstractContextManager[bool]:
        """Enter with True when this caller now holds the period, False when another does."""
        ...


def lock_name(period_id: int) -> str:
    # GET_LOCK names are per server, not per database: keep the database's name in it, so two
    # Lineblocs databases on one server (and the test suite's) never share a lock.
    return f"lbj_settle_{period_id}"


class MariaDbPeriodLocks:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._prefix = engine.url.database or ""

    @contextmanager
    def hold(self, period_id: int) -> Iterator[bool]:
        name = f"{lock_name(period_id)}@{self._prefix}"[:64]
        with self._engine.connect() as conn:
            # GET_LOCK is not transactional: the implicit transaction around it holds no row
            # lock (READ COMMITTED) and ends when the pool resets the connection.
            # Driver SQL (MariaDB only): nothing to compile, twice per bill.
            got = conn.exec_driver_sql("SELECT GET_LOCK(%s, 0)", (name,)).scalar()
            if got != 1:
                yield False
                return
            try:
                yield True
            finally:
                try:
                    conn.exec_driver_sql("SELECT RELEASE_LOCK(%s)", (name,))
                except Exception:
                    # Closing the connection is what frees the lock for sure.
                    log.exception("could not release %s: dropping its connection", name)
                    conn.invalidate()


class InProcessPeriodLocks:
    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._held: set[int] = set()

    @contextmanager
    def hold(self, period_id: int) -> Iterator[bool]:
        with self._guard:
            if period_id in self._held:
                got = False
            else:
                self._held.add(period_id)
                got = True
        try:
            yield got
        finally:
            if got:
                with self._guard:
                    self._held.discard(period_id)


def period_locks_for(engine: Engine) -> PeriodLocks:
    if engine.dialect.name == "sqlite":
        return InProcessPeriodLocks()
    return MariaDbPeriodLocks(engine)
