"""The maintenance service's periodic jobs: what periodiq sends, when, and for how long."""

from __future__ import annotations

from datetime import timedelta

from lineblocs_shared.reliability.periodic.jobs import PeriodicJob

# Each purge removes everything older than its cutoff, so after an outage only the latest missed
# period is worth running (catch-up `latest`).
PURGE_LOGS_JOB = PeriodicJob(
    name="maintenance.purge_logs", cron="15 3 * * *", time_limit=timedelta(minutes=30)
)
