"""The outbox relay: publishes committed `lbj_outbox` rows, after the transaction that wrote them.

`add_to_outbox` (`writer.py`) writes a message into `lbj_outbox` in the caller's transaction.
An `OutboxRelay` later publishes committed rows with broker confirms and marks each confirmed
one published. A crash between commit and publish loses nothing (the row waits); a crash between
publish and marking publishes the row again, so delivery is at-least-once and consumers
de-duplicate by event id (`inbox.py`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import dramatiq
from sqlalchemy import Engine, false, select, update
from sqlmodel import Session, col

from lineblocs_shared.clock import Clock, SystemClock
from lineblocs_shared.models.jobs import OutboxMessage
from lineblocs_shared.reliability.observability import metrics
from lineblocs_shared.reliability.outbox.backlog import outbox_stats
from lineblocs_shared.reliability.outbox.writer import message_of

logger = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 500
LAST_ERROR_LIMIT = 2000


@dataclass(frozen=True)
class PublishOutcome:
    message_id: str
    error: str | None = None  # None: the broker confirmed the message

    @property
    def confirmed(self) -> bool:
        return self.error is None


class OutboxPublisher(Protocol):
    def publish_batch(self, messages: Sequence[dramatiq.Message[Any]]) -> list[PublishOutcome]:
        """Publish in order; one outcome per message, confirmed only once the broker confirmed.

        Failures are outcomes, not exceptions: a message without a confirm is never reported
        confirmed.
        """
        ...


@dataclass(frozen=True)
class RelayResult:
    published: int
    failed: int
    backlog: int  # rows still unpublished after this pass


class OutboxRelay:
    """Publishes committed outbox rows; any number of relays may run against one MariaDB."""

    def __init__(
        self, engine: Engine, publisher: OutboxPublisher, *, clock: Clock | None = None
    ) -> None:
        self._engine = engine
        self._publisher = publisher
        self._clock = clock or SystemClock()

    def relay_once(self, batch_size: int = DEFAULT_BATCH_SIZE) -> RelayResult:
        """Publish up to `batch_size` unpublished rows, oldest first, and record the outcomes."""
        with Session(self._engine) as session, session.begin():
            rows = self._claim(session, batch_size)
            outcomes = self._publish(rows) if rows else {}
            published = self._record(session, rows, outcomes)
        return RelayResult(
            published=published,
            failed=len(rows) - published,
            backlog=outbox_stats(self._engine).backlog,
        )

    def _claim(self, session: Session, batch_size: int) -> Sequence[OutboxMessage]:
        stmt = (
            select(OutboxMessage)
            .where(col(OutboxMessage.published_at).is_(None))
            .order_by(col(OutboxMessage.id))
            .limit(batch_size)
        )
        if self._engine.dialect.name == "sqlite":
            # SQLite has no row locks but one writer: a write first takes that lock, so a
            # second relay waits for this pass to commit instead of reading the same rows.
            session.execute(
                update(OutboxMessage).where(false()).values(attempts=OutboxMessage.attempts)
            )
        else:
            # Rows another relay holds are skipped, not waited for, and never published twice.
            stmt = stmt.with_for_update(skip_locked=True)
        return session.execute(stmt).scalars().all()

    def _publish(self, rows: Sequence[OutboxMessage]) -> dict[str, PublishOutcome]:
        messages = [message_of(row) for row in rows]
        try:
            outcomes = self._publisher.publish_batch(messages)
        except Exception as exc:  # a publisher bug must not hide which rows stayed unsent
            logger.exception("outbox publisher raised instead of reporting outcomes")
            error = f"{type(exc).__name__}: {exc}"
            outcomes = [PublishOutcome(m.message_id, error) for m in messages]
        return {outcome.message_id: outcome for outcome in outcomes}

    def _record(
        self,
        session: Session,
        rows: Sequence[OutboxMessage],
        outcomes: dict[str, PublishOutcome],
    ) -> int:
        now = self._clock.now()
        confirmed = [row.id for row in rows if _outcome(outcomes, row).confirmed]
        if confirmed:
            session.execute(
                update(OutboxMessage)
                .where(col(OutboxMessage.id).in_(confirmed))
                .values(published_at=now, attempts=OutboxMessage.attempts + 1, last_error=None)
                .execution_options(synchronize_session=False)
            )
        for row in rows:
            error = _outcome(outcomes, row).error
            if error is not None:
                row.attempts += 1
                row.last_error = error[:LAST_ERROR_LIMIT]
        return len(confirmed)


def _outcome(outcomes: dict[str, PublishOutcome], row: OutboxMessage) -> PublishOutcome:
    return outcomes.get(row.event_id) or PublishOutcome(row.event_id, "no outcome reported")


def run_relay(
    relay: OutboxRelay,
    *,
    interval_s: float,
    stop_event: threading.Event,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> None:
    """Relay until `stop_event` is set: straight on while full batches go out, else pause."""
    last_failure: str | None = None
    while not stop_event.is_set():
        try:
            result = relay.relay_once(batch_size)
        except Exception as exc:  # database or broker away: keep the loop alive, try again later
            failure = f"{type(exc).__name__}: {exc}"
            if failure != last_failure:  # once per distinct failure, not once per interval
                logger.exception("outbox relay pass failed")
            last_failure = failure
            stop_event.wait(interval_s)
            continue
        if last_failure is not None:
            logger.info("outbox relay recovered")
            last_failure = None
        metrics.set_outbox_backlog(result.backlog)
        if result.published or result.failed:
            logger.info(
                "outbox relay: %d published, %d failed, %d left",
                result.published,
                result.failed,
                result.backlog,
            )
        if result.failed or result.published < batch_size:
            stop_event.wait(interval_s)
