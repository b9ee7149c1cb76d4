"""The notifications service's periodic sweeps and its one internal message.

A sweep finds the mails due (`sweeps/`), drops the ones the ledger already settled or is
sending, and sends one `send_notification` message per mail, its id derived from the mail's
dedupe key: a sweep run again (two schedulers, a retry, the next tick) sends the same ids, and
the ledger's claim makes each mail go out once whatever the copies. Each job claims its tick
(`PeriodicRunner`) and catches up only the latest: a sweep looks at the present, so one run
covers every tick the scheduler missed.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import Field

from lineblocs_shared.contracts import Contract, Payload, Queues
from lineblocs_shared.reliability.periodic.jobs import PeriodicJob

# A sweep scans and enqueues; sending happens in the messages it sends. 100,000 users take
# seconds (docs/benchmarks.md): 15 minutes means something is wrong.
SWEEP_LIMIT = timedelta(minutes=15)

INACTIVITY_JOB = PeriodicJob(
    name="notifications.inactivity", cron="0 14 * * *", time_limit=SWEEP_LIMIT
)
USAGE_TRIGGERS_JOB = PeriodicJob(
    name="notifications.usage_triggers", cron="*/15 * * * *", time_limit=timedelta(minutes=10)
)
FREE_TRIAL_JOB = PeriodicJob(
    name="notifications.free_trial", cron="20 * * * *", time_limit=SWEEP_LIMIT
)
CARDS_JOB = PeriodicJob(name="notifications.cards", cron="15 14 * * *", time_limit=SWEEP_LIMIT)
SURVEY_JOB = PeriodicJob(name="notifications.survey", cron="30 15 * * *", time_limit=SWEEP_LIMIT)


class SweepTick(Payload):
    """A sweep's tick (periodiq sends it without arguments; unknown fields are refused)."""


class SendNotification(Payload):
    """One mail to send once: what a sweep (or `notifications resend`) asks for."""

    kind: str = Field(min_length=1, max_length=48)
    dedupe_key: str = Field(min_length=1, max_length=191)
    user_id: int | None = None
    workspace_id: int | None = None
    variables: dict[str, Any] = Field(default_factory=dict)
    resend_of: int | None = None


SEND_NOTIFICATION = Contract(
    queue=Queues.NOTIFICATIONS, actor="send_notification", payload=SendNotification
)
SWEEP_CONTRACTS = {
    job.name: Contract(queue=Queues.NOTIFICATIONS, actor=job.name.split(".")[1], payload=SweepTick)
    for job in (INACTIVITY_JOB, USAGE_TRIGGERS_JOB, FREE_TRIAL_JOB, CARDS_JOB, SURVEY_JOB)
}
