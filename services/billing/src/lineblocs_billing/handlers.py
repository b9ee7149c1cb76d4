"""The billing handlers: plain functions the actors call with a validated payload.

`bill_subscription` writes a period's invoice (its own unit of work, committed) and settles it.
A message naming a later period than the subscription's next one bills the earlier periods
first, oldest first, each in its own unit of work (catch-up). `retry_invoice_payment` is the
dunning try the sweep enqueues: it settles the period again (`charging.settle_period` decides
whether a try is due).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from lineblocs_billing.charging import Settled, settle_period
from lineblocs_billing.composition import Billing
from lineblocs_billing.invoicing import anchor_day_of
from lineblocs_billing.invoicing_period import InvoicingOutcome, OutcomeKind, invoice_period
from lineblocs_billing.periods import BillingPeriod, first_due_period
from lineblocs_shared.contracts import BillSubscription, RetryInvoicePayment
from lineblocs_shared.db.types import as_utc
from lineblocs_shared.models.billing import BillingCycle
from lineblocs_shared.reliability.errors import TransientError
from lineblocs_shared.uow import UnitOfWork

log = logging.getLogger(__name__)

# Catch-up bills at most this many earlier periods per message (20 years of months).
MAX_EARLIER_PERIODS = 240


@dataclass(frozen=True)
class PeriodBilled:
    period_start: datetime
    invoicing: OutcomeKind
    settled: Settled | None  # None: nothing to settle (no record)


@dataclass
class BillReport:
    subscription_id: int
    periods: list[PeriodBilled] = field(default_factory=list)


class CatchUpStuck(TransientError):
    """An earlier period could not be written (it ends later than the message's): retry."""


def bill_subscription(deps: Billing, payload: BillSubscription) -> BillReport:
    report = BillReport(subscription_id=payload.subscription_id)
    start, end = as_utc(payload.period_start), as_utc(payload.period_end)
    for _ in range(MAX_EARLIER_PERIODS + 1):
        outcome = _invoice(deps, payload.subscription_id, start=start, end=end)
        if outcome.kind is not OutcomeKind.EARLIER_PERIOD_DUE:
            report.periods.append(_settle(deps, outcome, start))
            _log_no_op(payload, outcome)
            return report
        earlier = _due_period(deps, payload.subscription_id)
        if earlier is None or earlier.start >= start:
            raise CatchUpStuck(f"subscription {payload.subscription_id}: {outcome.detail}")
        log.info(
            "subscription %s: billing %s first (catch-up, oldest first)",
            payload.subscription_id,
            earlier.key_date,
        )
        earlier_outcome = _invoice(
            deps, payload.subscription_id, start=earlier.start, end=earlier.end
        )
        report.periods.append(_settle(deps, earlier_outcome, earlier.start))
        if earlier_outcome.kind is OutcomeKind.EARLIER_PERIOD_DUE:
            raise CatchUpStuck(f"subscription {payload.subscription_id}: {outcome.detail}")
    raise CatchUpStuck(f"subscription {payload.subscription_id}: too many earlier periods")


def retry_invoice_payment(deps: Billing, payload: RetryInvoicePayment) -> Settled:
    return settle_period(deps, period_id=payload.billing_period_id)


def _invoice(
    deps: Billing, subscription_id: int, *, start: datetime, end: datetime
) -> InvoicingOutcome:
    lineblocs = deps.lineblocs()  # before the transaction: see SettingsCache
    with UnitOfWork(deps.engine) as uow:
        outcome = invoice_period(
            uow,
            subscription_id=subscription_id,
            period_start=start,
            period_end=end,
            lineblocs_settings=lineblocs,
            now=deps.clock.now(),
        )
        uow.commit()
    return outcome


def _settle(deps: Billing, outcome: InvoicingOutcome, start: datetime) -> PeriodBilled:
    if outcome.record is None or outcome.record.id is None:
        return PeriodBilled(start, outcome.kind, None)
    return PeriodBilled(start, outcome.kind, settle_period(deps, period_id=outcome.record.id))


def _due_period(deps: Billing, subscription_id: int) -> BillingPeriod | None:
    """The subscription's next period to bill, as the distributor computes it."""
    with UnitOfWork(deps.engine) as uow:
        subscription = uow.subscriptions.get(subscription_id=subscription_id)
        if subscription is None:
            return None
        return first_due_period(
            next_billing_date=subscription.next_billing_date,
            cycle=BillingCycle(subscription.billing_cycle),
            anchor_day=anchor_day_of(subscription),
            now=deps.clock.now(),
        )


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
