"""Consumer-side de-duplication: act on each event once, however often it is delivered.

Delivery is at-least-once (a relay that dies after publishing publishes again; RabbitMQ
redelivers a killed worker's messages), so a consumer records the event id in
`lbj_processed_events` in the same transaction as its work:

    with UnitOfWork(engine) as uow:
        event_id = current_event_id()
        if first_delivery(uow.session, consumer="notify_payment_failed", event_id=event_id):
            ...  # the work, through uow
        uow.commit()

A duplicate finds the row and does nothing; if the work fails, the row rolls back with it and
the next delivery tries again. Two concurrent deliveries serialize on the unique key: the
second INSERT waits for the first transaction, then sees a duplicate (or wins if it rolled back).
"""

from __future__ import annotations

from datetime import datetime

from dramatiq.middleware import CurrentMessage
from sqlalchemy import Engine, delete, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlmodel import col

from lineblocs_shared.clock import Clock, SystemClock
from lineblocs_shared.models.jobs import ProcessedEvent
from lineblocs_shared.reliability.outbox.writer import EVENT_ID_OPTION

MYSQL_DUPLICATE_KEY = 1062


def first_delivery(
    session: Session, *, consumer: str, event_id: str, clock: Clock | None = None
) -> bool:
    """Record `event_id` as processed by `consumer` in the session's transaction.

    True the first time; False when it is already recorded (committed by an earlier delivery),
    leaving the session's transaction usable.
    """
    stmt = insert(ProcessedEvent).values(
        consumer=consumer, event_id=event_id, processed_at=(clock or SystemClock()).now()
    )
    try:
        # A failed INSERT rolls back to the savepoint only, not the consumer's transaction.
        with session.begin_nested():
            session.execute(stmt)
    except IntegrityError as exc:
        if _is_duplicate_key(exc):
            return False
        raise
    return True


def _is_duplicate_key(exc: IntegrityError) -> bool:
    args: tuple[object, ...] = getattr(exc.orig, "args", ())
    if bool(args) and args[0] == MYSQL_DUPLICATE_KEY:
        return True
    return "UNIQUE constraint failed" in str(exc.orig)  # SQLite


def current_event_id() -> str:
    """The event id of the message being processed: its `event_id` option, else its id.

    Needs Dramatiq's CurrentMessage middleware (every broker of ours has it) and an actor.
    """
    message = CurrentMessage.get_current_message()
    if message is None:
        raise RuntimeError("no current message: call from an actor of a CurrentMessage broker")
    event_id = message.options.get(EVENT_ID_OPTION)
    return str(event_id) if event_id else message.message_id


def purge_processed(engine: Engine, *, before: datetime) -> int:
    """Forget events processed before `before` (older than any redelivery can be)."""
    stmt = delete(ProcessedEvent).where(col(ProcessedEvent.processed_at) < before)
    with Session(engine) as session, session.begin():
        deleted: int = session.execute(stmt).rowcount  # type: ignore[attr-defined]
    return deleted
