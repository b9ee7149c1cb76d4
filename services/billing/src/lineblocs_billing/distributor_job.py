"""The distributor as a once-per-tick job: hourly through periodiq, or manually from the CLI.

Each run claims its tick in the job-run ledger (`PeriodicRunner`), so two schedulers, a
redelivery or a retry after the run succeeded do not distribute twice. `catch_up="latest"`:
a tick missed while the scheduler was down needs no run of its own, because every run bills
every period due by its own `now`, however old.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from lineblocs_billing.distributor import (
    DistributionReport,
    Distributor,
    ProgressHook,
    distribute,
)
from lineblocs_shared.contracts import Contract, Payload, Queues
from lineblocs_shared.reliability.errors import TransientError
from lineblocs_shared.reliability.periodic import Period, PeriodicJob, PeriodicRunner, Trigger

DISTRIBUTE_BILLS_JOB = "billing.distribute_bills"
# 100,000 subscriptions take seconds (docs/benchmarks.md); 20 minutes means something is wrong.
DISTRIBUTE_BILLS_TIME_LIMIT = timedelta(minutes=20)
DISTRIBUTE_BILLS_SCHEDULE = PeriodicJob(
    name=DISTRIBUTE_BILLS_JOB,
    cron="0 * * * *",
    catch_up="latest",
    # Longer than the time limit: a claim silent for that long belongs to a dead worker.
    lease=DISTRIBUTE_BILLS_TIME_LIMIT + timedelta(minutes=5),
)


class DistributeBills(Payload):
    """The hourly tick (periodiq sends it without arguments; unknown fields are refused)."""


# Sent only by periodiq and by this service to itself: no other service needs it.
DISTRIBUTE_BILLS = Contract(queue=Queues.BILLING, actor="distribute_bills", payload=DistributeBills)


class DistributionIncomplete(TransientError):
    """Some bill messages were not confirmed: the run fails and is retried (same claim)."""

    def __init__(self, report: DistributionReport) -> None:
        first = report.failed[0]
        super().__init__(
            f"{len(report.failed)} bill message(s) not confirmed by the broker "
            f"(first: {first.message_id}: {first.reason}); {report.line()}"
        )
        self.report = report


def run_distribution(
    distributor: Distributor,
    *,
    trigger: Trigger,
    now: datetime | None = None,
    progress: ProgressHook | None = None,
) -> DistributionReport | None:
    """Distribute once for `trigger` (a tick, or a manual run); None when another run holds it.

    `now` (default: the clock's) is the instant billed up to: `billing run --now` pretends it,
    while the ledger keeps recording real times.

    A run with failed publishes is recorded failed and raises `DistributionIncomplete`: the
    message's retry republishes everything still due (same ids, idempotent consumers).
    """

    def one_period(_period: Period) -> DistributionReport:
        report = distribute(distributor, now=now, progress=progress)
        if report.failed:
            raise DistributionIncomplete(report)
        return report

    runner = PeriodicRunner(engine=distributor.engine, clock=distributor.clock)
    return runner.run_reporting(DISTRIBUTE_BILLS_SCHEDULE, one_period, trigger=trigger)
