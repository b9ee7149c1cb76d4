"""Dramatiq actors of the maintenance service: thin, they validate and call a handler."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import dramatiq
from dramatiq.middleware import CurrentMessage

from lineblocs_maintenance import handlers
from lineblocs_maintenance.composition import current
from lineblocs_shared.contracts import PURGE_LOGS
from lineblocs_shared.reliability.periodic import Trigger


@dramatiq.actor(
    actor_name=PURGE_LOGS.actor,
    queue_name=PURGE_LOGS.queue,
    periodic=handlers.PURGE_LOGS_SCHEDULE.spec,
    max_retries=3,
    time_limit=handlers.PURGE_LOGS_TIME_LIMIT // timedelta(milliseconds=1),
)
def purge_logs(**kwargs: Any) -> None:
    payload = PURGE_LOGS.parse(kwargs)
    handlers.purge_logs(
        current(),
        retention_days=payload.retention_days,
        trigger=Trigger.of(CurrentMessage.get_current_message()),
    )
