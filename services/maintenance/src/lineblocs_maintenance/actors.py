"""Dramatiq actors of the maintenance service: thin, they validate and call a handler."""

from __future__ import annotations

from lineblocs_maintenance import bootstrap, handlers
from lineblocs_maintenance.schedules import CLEANUP_USERS_JOB, PURGE_LOGS_JOB, RETENTION_JOB
from lineblocs_shared.contracts import (
    APPLY_RETENTION,
    CLEANUP_USERS,
    PURGE_LOGS,
    ApplyRetention,
    CleanupUsers,
    PurgeLogs,
)
from lineblocs_shared.reliability.periodic.jobs import Trigger, periodic_actor


@periodic_actor(PURGE_LOGS_JOB, PURGE_LOGS)
def purge_logs(payload: PurgeLogs, trigger: Trigger) -> None:
    handlers.purge_logs(bootstrap.current(), retention_days=payload.retention_days, trigger=trigger)


@periodic_actor(RETENTION_JOB, APPLY_RETENTION)
def apply_retention(_payload: ApplyRetention, trigger: Trigger) -> None:
    handlers.retention(bootstrap.current(), trigger=trigger)


@periodic_actor(CLEANUP_USERS_JOB, CLEANUP_USERS)
def cleanup_users(_payload: CleanupUsers, trigger: Trigger) -> None:
    handlers.cleanup(bootstrap.current(), trigger=trigger)


MAINTENANCE_ACTORS = (purge_logs, apply_retention, cleanup_users)
