"""Drafting the invoice of one subscription for one period, without writing anything.

Three steps: read the subject (`subject_query.read_subject`: one query), read the period's
facts (usage aggregated in SQL by `usage.py`, number rentals, the pay-as-you-go balance: a
constant number of queries whatever the usage), then compute the draft with the pure rules of
`rules.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from lineblocs_billing.invoicing import usage
from lineblocs_billing.invoicing.draft import InvoiceDraft, subscription_debit_key
from lineblocs_billing.invoicing.inputs import (
    BillingSubject,
    PlanTerms,
    WorkspaceTerms,
)
from lineblocs_billing.invoicing.periods import BillingPeriod
from lineblocs_billing.invoicing.rentals import NumberRental, rentals_to_write
from lineblocs_billing.invoicing.rules import (
    TaxLine,
    billable_start,
    call_allowance_seconds,
    cycle_multiplier,
    membership_cents,
    tax_cents,
)
from lineblocs_billing.invoicing.subject_query import read_subject as query_subject
from lineblocs_billing.invoicing.unattributed import unattributed_of_creator
from lineblocs_shared.db.uow import UnitOfWork
from lineblocs_shared.models.billing import BillingCycle
from lineblocs_shared.prepaid import Attribution, balance_before
from lineblocs_shared.reliability.failures.taxonomy import FatalError


class SubscriptionMissing(LookupError):
    """The subscription (or its workspace) no longer exists: nothing to bill, not an error."""


class PlanMissing(FatalError):
    """The subscription points at a plan that does not exist: data to fix, not to retry."""


@dataclass(frozen=True)
class PeriodFacts:
    """What the database says of the period beyond its subject: the draft's second read."""

    usage: usage.UsageTotals
    rentals: tuple[NumberRental, ...]
    balance_before_end: int | None  # PAYG only, the rentals not written yet counted
    unattributed_debits: int


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
    return query_subject(
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
    facts = read_period_facts(uow, subject, workspace=workspace, plan=plan, period=period)
    return compute_draft(subject, facts, workspace=workspace, plan=plan, period=period)


def read_period_facts(
    uow: UnitOfWork,
    subject: BillingSubject,
    *,
    workspace: WorkspaceTerms,
    plan: PlanTerms,
    period: BillingPeriod,
) -> PeriodFacts:
    session, start, end = uow.session, period.start, period.end
    scope = Attribution(
        workspace_id=workspace.id,
        creator_id=workspace.creator_id,
        creator_workspaces=subject.creator_workspaces,
    )
    allowance = call_allowance_seconds(plan.minutes_per_month, period.cycle)
    totals = usage.usage_totals(session, scope, start=start, end=end, allowance_seconds=allowance)
    rentals = rentals_to_write(
        session, workspace_id=workspace.id, period=period, months=cycle_multiplier(period.cycle)
    )
    balance = None
    if plan.pay_as_you_go:
        # The rentals not written yet are debits of the period all the same: counting them
        # here gives the same balance before and after they are written (preview = re-run).
        debit_key = subscription_debit_key(workspace.id, period)
        balance = balance_before(session, scope, before=end, excluding_debit_key=debit_key) - sum(
            r.cents for r in rentals
        )
    unattributed = unattributed_of_creator(session, scope, start=start, end=end)
    return PeriodFacts(totals, tuple(rentals), balance, unattributed)


def compute_draft(
    subject: BillingSubject,
    facts: PeriodFacts,
    *,
    workspace: WorkspaceTerms,
    plan: PlanTerms,
    period: BillingPeriod,
) -> InvoiceDraft:
    """The draft from what was read: pure arithmetic (docs/billing-rules.md, sections 2-5)."""
    membership = _membership(subject, plan, period)
    totals, rental_cents = facts.usage, sum(r.cents for r in facts.rentals)
    number_costs = totals.number + rental_cents
    subtotal = membership + totals.call_costs + totals.recording + totals.fax + number_costs
    tax = subject.tax
    taxes = (TaxLine(tax.name, tax.percentage, tax_cents(subtotal, tax.percentage)),) if tax else ()
    return InvoiceDraft(
        subscription_id=subject.subscription.id,
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
        number_costs=number_costs,
        taxes=taxes,
        rentals=facts.rentals,
        payg_balance_before_end=facts.balance_before_end,
        usage_debits=totals.debits,
        unattributed_debits=facts.unattributed_debits,
    )


def _membership(subject: BillingSubject, plan: PlanTerms, period: BillingPeriod) -> int:
    subscription = subject.subscription
    return membership_cents(
        seats=subject.seats,
        price_cents=plan.price_cents(annual=period.cycle is BillingCycle.ANNUAL),
        start=period.start,
        end=period.end,
        billable_from=billable_start(
            start=period.start,
            subscription_created_at=subscription.created_at,
            free_trial_active=subscription.is_free_trial_active,
            free_trial_end=subscription.free_trial_end_date,
        ),
    )
