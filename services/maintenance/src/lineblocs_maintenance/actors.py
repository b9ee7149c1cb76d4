"""Dramatiq actors of the maintenance service: thin, they validate and call a handler."""

from __future__ import annotations

from lineblocs_maintenance import bootstrap, handlers
from lineblocs_maintenance.schedules import PURGE_LOGS_JOB
from lineblocs_shared.contracts import PURGE_LOGS, PurgeLogs
from lineblocs_shared.reliability.periodic.jobs import Trigger, periodic_actor


@periodic_actor(PURGE_LOGS_JOB, PURGE_LOGS)
def purge_logs(payload: PurgeLogs, trigger: Trigger) -> None:
    handlers.purge_logs(bootstrap.current(), retention_days=payload.retention_days, trigger=trigger)
