"""The invoice of one subscription for one period, computed without writing anything.

`compute_invoice` reads a constant number of rows whatever the workspace's usage (about five
queries; usage is aggregated in SQL by `usage.py`) and applies the pure rules of
`invoicing_rules.py`. The preview prints its result; `invoicing_write.py` writes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from lineblocs_billing import invoice_inputs, usage
from lineblocs_billing.invoice_inputs import BillingSubject, NumberRental, PlanTerms, WorkspaceTerms
from lineblocs_billing.invoicing_rules import (
    Settle,
    Settlement,
    TaxLine,
    billable_start,
    call_allowance_seconds,
    cycle_multiplier,
    membership_cents,
    settle_card_plan,
    settle_pay_as_you_go,
    tax_cents,
)
from lineblocs_billing.periods import BillingPeriod
from lineblocs_shared.models.billing import BillingCycle
from lineblocs_shared.reliability.errors import FatalError
from lineblocs_shared.uow import UnitOfWork

CYCLE_PREFIX = {BillingCycle.MONTHLY: "M", BillingCycle.ANNUAL: "A"}


class SubscriptionMissing(LookupError):
    """The subscription (or its workspace) no longer exists: nothing to bill, not an error."""


class PlanMissing(FatalError):
    """The subscription points at a plan that does not exist: data to fix, not to retry."""


@dataclass(frozen=True)
class InvoiceDraft:
    subscription_id: int
    workspace_id: int
    creator_id: int
    plan_id: int
    pay_as_you_go: bool
    period: BillingPeriod
    seats: int
    membership_costs: int
    call_costs: int
    recording_costs: int
    fax_costs: int
    number_costs: int
    taxes: tuple[TaxLine, ...]
    rentals: tuple[NumberRental, ...]  # debits to write (already counted in number_costs)
    payg_balance_before_end: int | None  # PAYG only: credits - debits before the period end
    usage_debits: int
    unattributed_debits: int  # the creator's rows without workspace, left out (rules §2)

    @property
    def cycle(self) -> BillingCycle:
        return self.period.cycle

    @property
    def cents(self) -> int:
        """The subtotal: the five costs."""
        return (
            self.membership_costs
            + self.call_costs
            + self.recording_costs
            + self.fax_costs
            + self.number_costs
        )

    @property
    def cents_taxes(self) -> int:
        return sum(tax.cents for tax in self.taxes)

    @property
    def cents_including_taxes(self) -> int:
        return self.cents + self.cents_taxes

    @property
    def membership_and_taxes(self) -> int:
        """What a PAYG workspace owes beyond the usage its credits already paid."""
        return self.membership_costs + self.cents_taxes

    @property
    def settlement(self) -> Settlement:
        if self.payg_balance_before_end is None:
            return settle_card_plan(self.cents_including_taxes)
        return settle_pay_as_you_go(
            total=self.cents_including_taxes,
            balance_before_end=self.payg_balance_before_end,
            membership_and_taxes=self.membership_and_taxes,
        )

    @property
    def settle(self) -> Settle:
        return self.settlement.settle

    @property
    def amount_to_charge(self) -> int:
        return self.settlement.amount_to_charge

    @property
    def deduplication_key(self) -> str:
        """The site's own invoice key: <MONTHLY|ANNUAL>:<workspace>:<period start Y-m-d>."""
        return f"{self.cycle.value}:{self.workspace_id}:{self.period.key_date}"

    @property
    def invoice_no(self) -> str:
        return f"{CYCLE_PREFIX[self.cycle]}-{self.workspace_id}-{self.period.start:%Y%m%d}"

    @property
    def subscription_debit_key(self) -> str:
        return subscription_debit_key(self.workspace_id, self.period)


def subscription_debit_key(workspace_id: int, period: BillingPeriod) -> str:
    return f"SUBSCRIPTION:{workspace_id}:{period.key_date}"


def compute_invoice(
    uow: UnitOfWork, *, subscription_id: int, period: BillingPeriod
) -> InvoiceDraft:
    """The invoice of `period`; raises SubscriptionMissing or PlanMissing (fatal)."""
    subject = read_subject(uow, subscription_id=subscription_id, start=period.start, end=period.end)
    if subject is None:
        raise SubscriptionMissing(f"subscription {subscription_id} does not exist")
    return draft_invoice(uow, subject, period=period)


def read_subject(
    uow: UnitOfWork,
    *,
    subscription_id: int,
    start: datetime,
    end: datetime,
    with_records: bool = False,
) -> BillingSubject | None:
    """The subscription and what one query can say about billing its period [start, end)."""
    return invoice_inputs.read_subject(
        uow.session,
        subscription_id=subscription_id,
        start=start,
        end=end,
        price_column=uow.plans.price_column,
        with_records=with_records,
    )


def draft_invoice(
    uow: UnitOfWork, subject: BillingSubject, *, period: BillingPeriod
) -> InvoiceDraft:
    """The invoice of `period` for `subject` (read for this period); raises SubscriptionMissing
    when its workspace no longer exists, PlanMissing (fatal) when its plan does not."""
    subscription, workspace, plan = subject.subscription, subject.workspace, subject.plan
    if workspace is None:
        raise SubscriptionMissing(f"workspace {subscription.workspace_id} does not exist")
    if plan is None:
        raise PlanMissing(
            f"subscription {subscription.id} points at service plan "
            f"{subscription.current_plan_id}, which does not exist"
        )
    return _draft(uow, subject, workspace=workspace, plan=plan, period=period)


def _draft(
    uow: UnitOfWork,
    subject: BillingSubject,
    *,
    workspace: WorkspaceTerms,
    plan: PlanTerms,
    period: BillingPeriod,
) -> InvoiceDraft:
    session, start, end = uow.session, period.start, period.end
    subscription = subject.subscription
    months = cycle_multiplier(period.cycle)
    scope = usage.Attribution(
        workspace_id=workspace.id,
        creator_id=workspace.creator_id,
        creator_workspaces=subject.creator_workspaces,
    )
    membership = membership_cents(
        seats=subject.seats,
        price_cents=plan.price_cents(annual=period.cycle is BillingCycle.ANNUAL),
        start=start,
        end=end,
        billable_from=billable_start(
            start=start,
            subscription_created_at=subscription.created_at,
            free_trial_active=subscription.is_free_trial_active,
            free_trial_end=subscription.free_trial_end_date,
        ),
    )
    allowance = call_allowance_seconds(plan.minutes_per_month, period.cycle)
    totals = usage.usage_totals(session, scope, start=start, end=end, allowance_seconds=allowance)
    rentals = invoice_inputs.rentals_to_write(
        session, workspace_id=workspace.id, period=period, months=months
    )
    subtotal = (
        membership + totals.call_costs + totals.recording + totals.fax + totals.number
    ) + sum(r.cents for r in rentals)
    tax = subject.tax
    taxes = (TaxLine(tax.name, tax.percentage, tax_cents(subtotal, tax.percentage)),) if tax else ()
    balance = None
    if plan.pay_as_you_go:
        # The rentals not written yet are debits of the period all the same: counting them
        # here gives the same balance before and after they are written (preview = re-run).
        balance = usage.balance_before(
            session,
            scope,
            before=end,
            excluding_debit_key=subscription_debit_key(workspace.id, period),
        ) - sum(r.cents for r in rentals)
    return InvoiceDraft(
        subscription_id=subscription.id,
        workspace_id=workspace.id,
        creator_id=workspace.creator_id,
        plan_id=plan.id,
        pay_as_you_go=plan.pay_as_you_go,
        period=period,
        seats=subject.seats,
        membership_costs=membership,
        call_costs=totals.call_costs,
        recording_costs=totals.recording,
        fax_costs=totals.fax,
        number_costs=totals.number + sum(r.cents for r in rentals),
        taxes=taxes,
        rentals=tuple(rentals),
        payg_balance_before_end=balance,
        usage_debits=totals.debits,
        unattributed_debits=usage.unattributed_of_creator(session, scope, start=start, end=end),
    )


class Anchored(Protocol):
    """A subscription's billing series: the ORM row, or the terms billing reads of it."""

    @property
    def billing_cycle(self) -> BillingCycle: ...

    @property
    def billing_anchor_day(self) -> int | None: ...


def period_for(subscription: Anchored, *, start: datetime, end: datetime) -> BillingPeriod:
    """The subscription's period [start, end), with its anchor day (for the period after it)."""
    return BillingPeriod(
        start=start,
        end=end,
        cycle=BillingCycle(subscription.billing_cycle),
        anchor_day=anchor_day_of(subscription) or end.day,
    )


def anchor_day_of(subscription: Anchored) -> int | None:
    anchor = subscription.billing_anchor_day
    return anchor if anchor is not None and 1 <= anchor <= 31 else None
