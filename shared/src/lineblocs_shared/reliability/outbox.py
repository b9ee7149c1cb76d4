"""Transactional outbox: a message that must follow a DB change is written with it, sent after.

`add_to_outbox` writes the message into `lbj_outbox` in the caller's transaction: committed
together with the change, or rolled back with it. An `OutboxRelay` later publishes committed
rows with broker confirms and marks each confirmed one published. A crash between commit and
publish loses nothing (the row waits); a crash between publish and marking publishes the row
again, so delivery is at-least-once and consumers de-duplicate by event id (`inbox.py`).

The event id is the Dramatiq message id and the `event_id` message option, so payloads stay
exactly as their contract defines them.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import dramatiq
from sqlalchemy import Engine, Table, delete, false, func, select, update
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, col

from lineblocs_shared.clock import Clock, SystemClock
from lineblocs_shared.contracts import Contract, PayloadT
from lineblocs_shared.db.rows import insert_row
from lineblocs_shared.models.jobs import OutboxMessage
from lineblocs_shared.reliability import metrics

logger = logging.getLogger(__name__)

EVENT_ID_OPTION = "event_id"
DEFAULT_BATCH_SIZE = 500
LAST_ERROR_LIMIT = 2000
OUTBOX: Table = OutboxMessage.__table__  # type: ignore[attr-defined]


def add_to_outbox(
    session: OrmSession,
    contract: Contract[PayloadT],
    payload: PayloadT,
    *,
    event_id: str | None = None,
    clock: Clock | None = None,
) -> OutboxMessage:
    """Write a message for `contract` in the caller's transaction; nothing is published yet."""
    if not isinstance(payload, contract.payload):
        raise TypeError(
            f"{contract.actor} takes {contract.payload.__name__}, not {type(payload).__name__}"
        )
    row = OutboxMessage(
        event_id=event_id or str(uuid.uuid4()),
        queue_name=contract.queue,
        actor_name=contract.actor,
        payload=json.dumps(payload.model_dump(mode="json"), sort_keys=True),
        created_at=(clock or SystemClock()).now(),
    )
    # A Core INSERT (billing writes one per bill). A reused event id fails here, inside the
    # caller's transaction.
    row.id = insert_row(session, row, OUTBOX)
    return row


def message_of(row: OutboxMessage) -> dramatiq.Message[Any]:
    """The Dramatiq message of an outbox row; the same event id gives the same message id."""
    return dramatiq.Message(
        queue_name=row.queue_name,
        actor_name=row.actor_name,
        args=(),
        kwargs=json.loads(row.payload),
        options={EVENT_ID_OPTION: row.event_id},
        message_id=row.event_id,
    )


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


@dataclass(frozen=True)
class OutboxStats:
    backlog: int
    oldest_unpublished_at: datetime | None
    failing: int  # unpublished rows whose last publish attempt failed


def outbox_stats(engine: Engine) -> OutboxStats:
    stmt = select(
        func.count(),
        func.min(col(OutboxMessage.created_at)),
        func.count(col(OutboxMessage.last_error)),
    ).where(col(OutboxMessage.published_at).is_(None))
    with Session(engine) as session:
        backlog, oldest, failing = session.execute(stmt).one()
    return OutboxStats(backlog=backlog, oldest_unpublished_at=oldest, failing=failing)


def purge_published(engine: Engine, *, before: datetime) -> int:
    """Delete rows published before `before`; unpublished rows are never purged."""
    stmt = delete(OutboxMessage).where(col(OutboxMessage.published_at) < before)
    with Session(engine) as session, session.begin():
        deleted: int = session.execute(stmt).rowcount  # type: ignore[attr-defined]
    return deleted


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
