"""The billing handlers: plain functions the actors call with a validated payload.

- `bill_subscription` writes a period's invoice (its own unit of work, committed) and settles
  it. A message naming a later period than the subscription's next one bills the earlier
  periods first, oldest first, each in its own unit of work (catch-up).
- `retry_invoice_payment` is the dunning try the sweep enqueues: it settles the period again
  (`settling.decide` says whether a try is due).
- `distribute_bills` and `sweep_dunning` are the periodic jobs (`schedules.py`): once per tick,
  they enqueue bill and retry messages.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from lineblocs_billing.bootstrap import Billing
from lineblocs_billing.distribution.distributor import (
    DistributionReport,
    Distributor,
    ProgressHook,
    distribute,
)
from lineblocs_billing.distribution.sweep import SweepReport, sweep
from lineblocs_billing.invoicing.invoice_period import InvoicingOutcome, OutcomeKind, invoice_period
from lineblocs_billing.invoicing.periods import BillingPeriod, next_due_period
from lineblocs_billing.schedules import DISTRIBUTE_BILLS_JOB, SWEEP_DUNNING_JOB
from lineblocs_billing.settling.outcome import SettlingOutcome
from lineblocs_billing.settling.settle import settle_period
from lineblocs_shared.contracts import BillSubscription, RetryInvoicePayment
from lineblocs_shared.db.types import as_utc
from lineblocs_shared.db.uow import UnitOfWork
from lineblocs_shared.queue.bulk import MessagePublisher
from lineblocs_shared.reliability.failures.taxonomy import TransientError
from lineblocs_shared.reliability.periodic.jobs import Trigger
from lineblocs_shared.reliability.periodic.runner import Period, PeriodicRunner

log = logging.getLogger(__name__)

# Catch-up bills at most this many earlier periods per message (20 years of months).
MAX_EARLIER_PERIODS = 240


@dataclass(frozen=True)
class PeriodBilled:
    period_start: datetime
    invoicing: OutcomeKind
    settled: SettlingOutcome | None  # None: nothing to settle (no record)


@dataclass
class BillReport:
    subscription_id: int
    periods: list[PeriodBilled] = field(default_factory=list)


class CatchUpStuck(TransientError):
    """An earlier period could not be written (it ends later than the message's): retry."""


class DistributionIncomplete(TransientError):
    """Some bill messages were not confirmed: the run fails and is retried (same claim)."""

    def __init__(self, report: DistributionReport) -> None:
        first = report.failed[0]
        super().__init__(
            f"{len(report.failed)} bill message(s) not confirmed by the broker "
            f"(first: {first.message_id}: {first.reason}); {report.line()}"
        )
        self.report = report


class SweepIncomplete(TransientError):
    """Some retry messages were not confirmed by the broker: the run is retried (same ids)."""


# --- bill a subscription's period, and retry a failed one ------------------------------------


def bill_subscription(deps: Billing, payload: BillSubscription) -> BillReport:
    report = BillReport(subscription_id=payload.subscription_id)
    start, end = as_utc(payload.period_start), as_utc(payload.period_end)
    as_of = judged_at(deps, payload)
    for _ in range(MAX_EARLIER_PERIODS + 1):
        outcome = _invoice(deps, payload.subscription_id, start=start, end=end, as_of=as_of)
        if outcome.kind is not OutcomeKind.EARLIER_PERIOD_DUE:
            report.periods.append(_settle(deps, outcome, start))
            _log_no_op(payload, outcome)
            return report
        report.periods.append(_bill_earlier(deps, payload, start=start, later=outcome, as_of=as_of))
    raise CatchUpStuck(f"subscription {payload.subscription_id}: too many earlier periods")


def judged_at(deps: Billing, payload: BillSubscription) -> datetime:
    """The instant the distribution judged by (never later than our clock: the future is
    refused), or our clock for messages that do not say."""
    now = deps.clock.now()
    return min(as_utc(payload.as_of), now) if payload.as_of is not None else now


def retry_invoice_payment(deps: Billing, payload: RetryInvoicePayment) -> SettlingOutcome:
    return settle_period(deps, period_id=payload.billing_period_id)


def _bill_earlier(
    deps: Billing,
    payload: BillSubscription,
    *,
    start: datetime,
    later: InvoicingOutcome,
    as_of: datetime,
) -> PeriodBilled:
    """Catch-up: bill the subscription's next due period, which starts before `start`."""
    earlier = _due_period(deps, payload.subscription_id, as_of=as_of)
    if earlier is None or earlier.start >= start:
        raise CatchUpStuck(f"subscription {payload.subscription_id}: {later.detail}")
    log.info(
        "subscription %s: billing %s first (catch-up, oldest first)",
        payload.subscription_id,
        earlier.key_date,
    )
    outcome = _invoice(
        deps, payload.subscription_id, start=earlier.start, end=earlier.end, as_of=as_of
    )
    billed = _settle(deps, outcome, earlier.start)
    if outcome.kind is OutcomeKind.EARLIER_PERIOD_DUE:
        raise CatchUpStuck(f"subscription {payload.subscription_id}: {later.detail}")
    return billed


def _invoice(
    deps: Billing, subscription_id: int, *, start: datetime, end: datetime, as_of: datetime
) -> InvoicingOutcome:
    site = deps.site_settings()  # before the transaction: see SettingsCache
    with UnitOfWork(deps.engine) as uow:
        outcome = invoice_period(
            uow,
            subscription_id=subscription_id,
            period_start=start,
            period_end=end,
            site_settings=site,
            now=deps.clock.now(),
            as_of=as_of,
        )
        uow.commit()
    return outcome


def _settle(deps: Billing, outcome: InvoicingOutcome, start: datetime) -> PeriodBilled:
    if outcome.record is None or outcome.record.id is None:
        return PeriodBilled(start, outcome.kind, None)
    return PeriodBilled(start, outcome.kind, settle_period(deps, period_id=outcome.record.id))


def _due_period(deps: Billing, subscription_id: int, *, as_of: datetime) -> BillingPeriod | None:
    with UnitOfWork(deps.engine) as uow:
        subscription = uow.subscriptions.get(subscription_id=subscription_id)
        if subscription is None:
            return None
        return next_due_period(subscription, now=as_of)


def _log_no_op(payload: BillSubscription, outcome: InvoicingOutcome) -> None:
    if outcome.kind in (OutcomeKind.WRITTEN, OutcomeKind.ALREADY_WRITTEN):
        return
    # Deleted, cancelled or already past this period since it was enqueued: nothing to do.
    log.info(
        "subscription %s, period %s: %s (%s); nothing billed",
        payload.subscription_id,
        f"{payload.period_start:%Y-%m-%d}",
        outcome.kind,
        outcome.detail,
    )


# --- the periodic jobs ------------------------------------------------------------------------


def distribute_bills(
    distributor: Distributor,
    *,
    trigger: Trigger,
    now: datetime | None = None,
    progress: ProgressHook | None = None,
) -> DistributionReport | None:
    """Distribute once for `trigger` (a tick, or a manual run); None when another run holds it.

    `now` (default: the clock's) is the instant billed up to: `billing run --now` pretends it,
    while the ledger keeps recording real times. A run with failed publishes is recorded failed
    and raises `DistributionIncomplete`: the message's retry republishes everything still due
    (same ids, idempotent consumers).
    """

    def one_period(_period: Period) -> DistributionReport:
        report = distribute(distributor, now=now, progress=progress)
        if report.failed:
            raise DistributionIncomplete(report)
        return report

    runner = PeriodicRunner(engine=distributor.engine, clock=distributor.clock)
    return runner.run_reporting(DISTRIBUTE_BILLS_JOB, one_period, trigger=trigger)


def sweep_dunning(
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
    return runner.run_reporting(SWEEP_DUNNING_JOB, one_period, trigger=trigger)
