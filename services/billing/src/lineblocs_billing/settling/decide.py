"""Step 1 of settling a period: decide, under the period's lock, what is due now.

Nothing is left to collect (paid, closed on the site, given up) → an outcome, nothing written.
An attempt still in flight → resume it. A failed period whose next dunning try is not due →
wait. Otherwise: pay-as-you-go covered by credits → paid now; no chargeable card → declined now
(no gateway call); else a new attempt, committed before the gateway is called (`plan.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from lineblocs_billing.bootstrap import Billing
from lineblocs_billing.invoicing.rules import PayBy
from lineblocs_billing.settling.attempts import UNRESOLVED, AttemptRepository
from lineblocs_billing.settling.billee import Billee, billee_of, chargeable
from lineblocs_billing.settling.closing import closed_elsewhere
from lineblocs_billing.settling.declined import NO_CARD, Decline, record_declined
from lineblocs_billing.settling.dunning import DunningPolicy
from lineblocs_billing.settling.outcome import SettlingOutcome
from lineblocs_billing.settling.paid import Payment, record_paid
from lineblocs_billing.settling.plan import ChargePlan, new_attempt, resumed_attempt
from lineblocs_shared.db.types import whole_seconds
from lineblocs_shared.db.uow import UnitOfWork
from lineblocs_shared.models.billing import Card, Invoice
from lineblocs_shared.models.billing_runs import BillingPeriodRecord, PeriodState
from lineblocs_shared.reliability.failures.taxonomy import FatalError
from lineblocs_shared.site_settings.reader import SiteSettings

SETTLEABLE = (PeriodState.INVOICED, PeriodState.FAILED)


@dataclass(frozen=True)
class OpenPeriod:
    """A settleable period, its open invoice and its payer, read under the period's lock."""

    record: BillingPeriodRecord
    invoice: Invoice
    billee: Billee
    now: datetime


def decide(deps: Billing, period_id: int) -> ChargePlan | SettlingOutcome:
    """What settling `period_id` does now; whatever was decided is committed on return."""
    now = whole_seconds(deps.clock.now())
    site = deps.site_settings()  # before the transaction: see SettingsCache
    with UnitOfWork(deps.engine) as uow:
        step = _decide_locked(deps, uow, site, period_id, now=now)
        uow.commit()
    return step


def _decide_locked(
    deps: Billing, uow: UnitOfWork, site: SiteSettings, period_id: int, *, now: datetime
) -> ChargePlan | SettlingOutcome:
    attempts = AttemptRepository(session=uow.session)
    locked = attempts.lock_period(period_id=period_id)
    if locked is None:
        raise FatalError(f"billing period {period_id} does not exist")
    record, invoice = locked.record, locked.invoice
    if record.state not in SETTLEABLE:
        return SettlingOutcome.NOTHING_TO_DO
    closed = closed_elsewhere(uow, record, invoice, now=now)
    if closed is not None:
        return closed
    assert invoice is not None
    period = OpenPeriod(record, invoice, billee_of(uow, record), now)
    earlier = attempts.of_period(period_id=period_id)
    in_flight = next((a for a in earlier if a.state in UNRESOLVED), None)
    if in_flight is not None:
        gateway = deps.gateway_provider.for_run(site)
        return resumed_attempt(uow, period.billee, in_flight, gateway)
    if record.state == PeriodState.FAILED and not _due(record, now):
        return SettlingOutcome.NOT_DUE
    number = max((a.attempt_no for a in earlier), default=0) + 1
    return _collect(deps, uow, site, period, attempt_no=number)


def _due(record: BillingPeriodRecord, now: datetime) -> bool:
    return record.next_attempt_at is not None and record.next_attempt_at <= now


def _collect(
    deps: Billing, uow: UnitOfWork, site: SiteSettings, period: OpenPeriod, *, attempt_no: int
) -> ChargePlan | SettlingOutcome:
    """From credits, by a new card attempt, or declined for want of a card."""
    if period.record.amount_due_cents <= 0:  # pay-as-you-go, covered by credits
        return _pay_from_credits(deps, uow, site, period)
    card = uow.cards.default_for_workspace(workspace_id=period.billee.workspace_id)
    if not chargeable(card, period.billee):
        return _decline_without_card(deps, uow, site, period, card)
    assert card is not None
    gateway = deps.gateway_provider.for_run(site)  # misconfigured: fatal, nothing written
    return new_attempt(
        uow,
        period.record,
        period.billee,
        card,
        gateway,
        number=attempt_no,
        now=period.now,
        resettle_after=timedelta(minutes=deps.options.billing_resettle_after_min),
    )


def _pay_from_credits(
    deps: Billing, uow: UnitOfWork, site: SiteSettings, period: OpenPeriod
) -> SettlingOutcome:
    record_paid(
        uow,
        record=period.record,
        invoice=period.invoice,
        billee=period.billee,
        payment=Payment(PayBy.CREDITS, charged_cents=0, currency=site.default_currency),
        now=period.now,
        clock=deps.clock,
    )
    return SettlingOutcome.PAID_FROM_CREDITS


def _decline_without_card(
    deps: Billing, uow: UnitOfWork, site: SiteSettings, period: OpenPeriod, card: Card | None
) -> SettlingOutcome:
    """No gateway call: the try fails at once, and dunning goes on as after a decline."""
    amount = period.record.amount_due_cents
    record_declined(
        uow,
        record=period.record,
        invoice=period.invoice,
        billee=period.billee,
        decline=Decline(NO_CARD, card, amount, site.default_currency),
        policy=DunningPolicy.of_site(site),
        now=period.now,
        clock=deps.clock,
    )
    return SettlingOutcome.NO_CARD
