"""The maintenance service's periodic jobs: what periodiq sends, when, and for how long."""

from __future__ import annotations

from datetime import timedelta

from lineblocs_shared.reliability.periodic.jobs import PeriodicJob

# Each of these removes everything past its cutoff, so after an outage only the latest missed
# period is worth running (catch-up `latest`, the default).
PURGE_LOGS_JOB = PeriodicJob(
    name="maintenance.purge_logs", cron="15 3 * * *", time_limit=timedelta(minutes=30)
)
RETENTION_JOB = PeriodicJob(
    name="maintenance.retention", cron="45 3 * * *", time_limit=timedelta(minutes=30)
)
CLEANUP_USERS_JOB = PeriodicJob(
    name="maintenance.cleanup_users", cron="30 4 * * *", time_limit=timedelta(minutes=30)
)

# Every 5 minutes: the sweep only queues (one message per recording), so 4 minutes is plenty.
# Catch-up `latest`: a sweep looks at the present, so one run covers every tick missed.
RELOCATE_RECORDINGS_JOB = PeriodicJob(
    name="maintenance.relocate_recordings", cron="*/5 * * * *", time_limit=timedelta(minutes=4)
)
