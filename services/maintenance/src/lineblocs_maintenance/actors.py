"""Dramatiq actors of the maintenance service: thin, they validate and call a handler."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import dramatiq

from lineblocs_maintenance import bootstrap, handlers
from lineblocs_maintenance.schedules import (
    CLEANUP_USERS_JOB,
    PURGE_LOGS_JOB,
    RELOCATE_RECORDINGS_JOB,
    RETENTION_JOB,
)
from lineblocs_shared.contracts import (
    APPLY_RETENTION,
    CLEANUP_USERS,
    PURGE_LOGS,
    RELOCATE_RECORDING,
    RELOCATE_RECORDINGS,
    ApplyRetention,
    CleanupUsers,
    PurgeLogs,
    RelocateRecordings,
)
from lineblocs_shared.queue.bulk import bulk_publisher_for
from lineblocs_shared.reliability.periodic.jobs import Trigger, periodic_actor

# One recording: a download and an upload of up to a few hundred MB.
RELOCATE_TIME_LIMIT = timedelta(minutes=30)
# A media server or S3 away: retried for up to an hour, 10 s first, at most 5 min apart. The
# recording's own budget (RECORDING_RELOCATION_MAX_ATTEMPTS) usually ends it first;
# `relocation.sweep.IN_FLIGHT` must outlast this window and the time limit.
RELOCATE_RETRIES: dict[str, Any] = {
    "max_retries": 20,
    "min_backoff": 10_000,
    "max_backoff": 5 * 60_000,
    "retry_for_ms": 60 * 60_000,
    "time_limit": RELOCATE_TIME_LIMIT // timedelta(milliseconds=1),
}


@periodic_actor(PURGE_LOGS_JOB, PURGE_LOGS)
def purge_logs(payload: PurgeLogs, trigger: Trigger) -> None:
    handlers.purge_logs(bootstrap.current(), retention_days=payload.retention_days, trigger=trigger)


@periodic_actor(RETENTION_JOB, APPLY_RETENTION)
def apply_retention(_payload: ApplyRetention, trigger: Trigger) -> None:
    handlers.retention(bootstrap.current(), trigger=trigger)


@periodic_actor(CLEANUP_USERS_JOB, CLEANUP_USERS)
def cleanup_users(_payload: CleanupUsers, trigger: Trigger) -> None:
    handlers.cleanup(bootstrap.current(), trigger=trigger)


@periodic_actor(RELOCATE_RECORDINGS_JOB, RELOCATE_RECORDINGS)
def relocate_recordings(_payload: RelocateRecordings, trigger: Trigger) -> None:
    deps = bootstrap.current()
    publisher = bulk_publisher_for(deps.settings, dramatiq.get_broker())
    handlers.relocate_recordings(deps, publisher, trigger=trigger)


@dramatiq.actor(
    actor_name=RELOCATE_RECORDING.actor, queue_name=RELOCATE_RECORDING.queue, **RELOCATE_RETRIES
)
def relocate_recording(**kwargs: Any) -> None:
    payload = RELOCATE_RECORDING.parse(kwargs)
    handlers.relocate_recording(bootstrap.current(), recording_id=payload.recording_id)


MAINTENANCE_ACTORS = (
    purge_logs,
    apply_retention,
    cleanup_users,
    relocate_recordings,
    relocate_recording,
)
