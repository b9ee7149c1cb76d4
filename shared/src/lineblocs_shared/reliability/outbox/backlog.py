"""The outbox's backlog, for operators: what waits, how old, what fails; purging what was sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, delete, func, select
from sqlmodel import Session, col

from lineblocs_shared.errors import ExpectedFailure
from lineblocs_shared.models.jobs import OutboxMessage


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


class OutboxMessageNotFound(ExpectedFailure):
    pass


def find_messages(
    engine: Engine, *, published: bool | None = None, limit: int = 50
) -> list[OutboxMessage]:
    """Outbox rows, newest first: all, only the published ones, or only those still waiting."""
    stmt = select(OutboxMessage).order_by(col(OutboxMessage.id).desc()).limit(limit)
    if published is not None:
        sent = col(OutboxMessage.published_at).is_not(None)
        stmt = stmt.where(sent if published else ~sent)
    with Session(engine) as session:
        return list(session.execute(stmt).scalars().all())


def get_message(engine: Engine, message_id: int) -> OutboxMessage:
    with Session(engine) as session:
        message = session.get(OutboxMessage, message_id)
    if message is None:
        raise OutboxMessageNotFound(f"no outbox message with id {message_id}")
    return message
