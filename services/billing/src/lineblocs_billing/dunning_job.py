"""The dunning sweep as a once-per-tick job (every 15 minutes, through periodiq).

Each run claims its tick (`PeriodicRunner`), so two schedulers or a redelivery sweep once.
`catch_up="latest"`: a sweep enqueues everything due by its own `now`, so ticks missed while
the scheduler was down need no runs of their own.
"""

from __future__ import annotations

from datetime import timedelta

from lineblocs_billing.composition import Billing
from lineblocs_billing.dunning_sweep import SweepReport, sweep
from lineblocs_shared.contracts import Contract, Payload, Queues
from lineblocs_shared.reliability.bulk import MessagePublisher
from lineblocs_shared.reliability.errors import TransientError
from lineblocs_shared.reliability.periodic import Period, PeriodicJob, PeriodicRunner, Trigger

SWEEP_DUNNING_JOB = "billing.sweep_dunning"
SWEEP_DUNNING_TIME_LIMIT = timedelta(minutes=10)
SWEEP_DUNNING_SCHEDULE = PeriodicJob(
    name=SWEEP_DUNNING_JOB,
    cron="*/15 * * * *",
    catch_up="latest",
    lease=SWEEP_DUNNING_TIME_LIMIT + timedelta(minutes=5),
)


class SweepDunning(Payload):
    """The quarter-hourly tick (periodiq sends it without arguments)."""


# Sent only by periodiq and by this service to itself.
SWEEP_DUNNING = Contract(queue=Queues.BILLING, actor="sweep_dunning", payload=SweepDunning)


class SweepIncomplete(TransientError):
    """Some retry messages were not confirmed by the broker: the run is retried (same ids)."""


def run_sweep(
    deps: Billing, publisher: MessagePublisher, *, trigger: Trigger
) -> SweepReport | None:
    """Sweep once for `trigger`; None when another message already holds this tick."""

    def one_period(_period: Period) -> SweepReport:
        report = sweep(
            deps.engine,
            publisher,
            now=deps.clock.now(),
            resettle_after=timedelta(minutes=deps.options.billing_resettle_after_min),
        )
        if report.failed:
            first = report.failed[0]
            raise SweepIncomplete(
                f"{len(report.failed)} retry message(s) not confirmed "
                f"(first: {first.message_id}: {first.reason})"
            )
        return report

    runner = PeriodicRunner(engine=deps.engine, clock=deps.clock)
    return runner.run_reporting(SWEEP_DUNNING_SCHEDULE, one_period, trigger=trigger)
