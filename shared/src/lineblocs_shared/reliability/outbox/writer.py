"""Writing an outbox message in the caller's transaction: committed with the change it follows,
or rolled back with it. `relay.py` publishes it after the commit.

The event id is the Dramatiq message id and the `event_id` message option, so payloads stay
exactly as their contract defines them, and consumers de-duplicate by it (`inbox.py`).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import dramatiq
from sqlalchemy import Table
from sqlalchemy.orm import Session as OrmSession

from lineblocs_shared.clock import Clock, SystemClock
from lineblocs_shared.contracts import Contract, PayloadT
from lineblocs_shared.db.rows import insert_row
from lineblocs_shared.models.jobs import OutboxMessage

EVENT_ID_OPTION = "event_id"
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
