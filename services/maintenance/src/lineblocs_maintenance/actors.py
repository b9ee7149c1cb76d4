"""Dramatiq actors of the maintenance service: thin, they validate and call a handler."""

from __future__ import annotations

from typing import Any

import dramatiq
from dramatiq.middleware import CurrentMessage
from periodiq import cron

from lineblocs_maintenance import handlers
from lineblocs_maintenance.composition import current
from lineblocs_shared.contracts import PURGE_LOGS


@dramatiq.actor(
    actor_name=PURGE_LOGS.actor,
    queue_name=PURGE_LOGS.queue,
    periodic=cron("15 3 * * *"),
    max_retries=3,
    time_limit=30 * 60_000,
)
def purge_logs(**kwargs: Any) -> None:
    payload = PURGE_LOGS.parse(kwargs)
    message = CurrentMessage.get_current_message()
    handlers.purge_logs(
        current(),
        retention_days=payload.retention_days,
        message_id=message.message_id if message else None,
    )
