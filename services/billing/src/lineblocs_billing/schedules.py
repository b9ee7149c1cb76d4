"""The billing service's periodic jobs: what periodiq sends, when, and how long a run may take.

Each run claims its tick in the job-run ledger (`PeriodicRunner`), so two schedulers, a
redelivery or a retry after the run succeeded do not run it twice. Both catch up `latest`: a
run enqueues everything due by its own `now`, however old, so ticks missed while the scheduler
was down need no runs of their own.
"""

from __future__ import annotations

from datetime import timedelta

from lineblocs_shared.contracts import Contract, Payload, Queues
from lineblocs_shared.reliability.periodic.jobs import PeriodicJob

# 100,000 subscriptions take seconds (docs/benchmarks.md); 20 minutes means something is wrong.
DISTRIBUTE_BILLS_JOB = PeriodicJob(
    name="billing.distribute_bills", cron="0 * * * *", time_limit=timedelta(minutes=20)
)
SWEEP_DUNNING_JOB = PeriodicJob(
    name="billing.sweep_dunning", cron="*/15 * * * *", time_limit=timedelta(minutes=10)
)


class DistributeBills(Payload):
    """The hourly tick (periodiq sends it without arguments; unknown fields are refused)."""


class SweepDunning(Payload):
    """The quarter-hourly tick (periodiq sends it without arguments)."""


# Sent only by periodiq and by this service to itself: no other service needs them.
DISTRIBUTE_BILLS = Contract(queue=Queues.BILLING, actor="distribute_bills", payload=DistributeBills)
SWEEP_DUNNING = Contract(queue=Queues.BILLING, actor="sweep_dunning", payload=SweepDunning)
