"""Invoice one subscription for one period: the entry point of the bill handler.

`invoice_period` decides whether the period is to be written now, computes it, and writes it in
the caller's unit of work (the caller commits). Every reason not to write is an outcome, not an
exception — a redelivered message, a subscription deleted or cancelled since it was enqueued —
except a missing plan (`PlanMissing`) and a refused value (`InvoiceNotWritable`): both fatal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from lineblocs_billing.invoicing.draft import InvoiceDraft
from lineblocs_billing.invoicing.drafting import draft_invoice, read_subject
from lineblocs_billing.invoicing.inputs import BillingSubject, SubscriptionTerms, WorkspaceTerms
from lineblocs_billing.invoicing.period_records import BillingPeriodRepository
from lineblocs_billing.invoicing.periods import next_due_period, period_of
from lineblocs_billing.invoicing.write import write_invoice
from lineblocs_shared.db.uow import UnitOfWork
from lineblocs_shared.models.billing_runs import BillingPeriodRecord
from lineblocs_shared.site_settings.reader import SiteSettings


class OutcomeKind(StrEnum):
    WRITTEN = "written"  # this call wrote the period: an invoice, or nothing due
    ALREADY_WRITTEN = "already_written"  # an earlier or concurrent run did: `record` is it
    SUBSCRIPTION_MISSING = "subscription_missing"  # deleted since enqueued: log, no-op
    NOT_BILLABLE = "not_billable"  # no longer ACTIVE, or its workspace inactive: no-op
    NOT_ENDED = "not_ended"  # the period ends after `now`
    EARLIER_PERIOD_DUE = "earlier_period_due"  # bill `due_start`'s period first (catch-up order)
    SUPERSEDED = "superseded"  # the subscription's dates are already past this period


@dataclass(frozen=True)
class InvoicingOutcome:
    kind: OutcomeKind
    record: BillingPeriodRecord | None = None
    draft: InvoiceDraft | None = None
    due_start: datetime | None = None  # the subscription's next period to bill, when known
    detail: str = ""

    @property
    def has_record(self) -> bool:
        """Settling can go on from `record` (written now or before)."""
        return self.record is not None


def invoice_period(
    uow: UnitOfWork,
    *,
    subscription_id: int,
    period_start: datetime,
    period_end: datetime,
    site_settings: SiteSettings,
    now: datetime,
    as_of: datetime | None = None,
) -> InvoicingOutcome:
    """`now` stamps what is written; `as_of` (default `now`) is the instant the period is
    judged due by: the distribution's, which a message carries (`BillSubscription.as_of`)."""
    records = BillingPeriodRepository(session=uow.session)
    subject = read_subject(
        uow,
        subscription_id=subscription_id,
        start=period_start,
        end=period_end,
        with_records=True,
    )
    if subject is None or subject.workspace is None:
        return _written_or_missing(records, subject, subscription_id, period_start)
    # This subscription's record first (a redelivered message), else the one of its workspace
    # and cycle (written for another subscription of the same workspace).
    done = records.by_id(subject.record_of_subscription or subject.record_of_workspace)
    if done is not None:
        return InvoicingOutcome(OutcomeKind.ALREADY_WRITTEN, record=done)
    workspace = subject.workspace
    subscription = subject.subscription
    judged = as_of or now
    refusal = _refusal(subscription, workspace, start=period_start, end=period_end, now=judged)
    if refusal is not None:
        return refusal
    period = period_of(subscription, start=period_start, end=period_end)
    draft = draft_invoice(uow, subject, period=period)
    written = write_invoice(
        uow, draft, subscription=subscription, now=now, site_settings=site_settings
    )
    kind = OutcomeKind.WRITTEN if written.wrote else OutcomeKind.ALREADY_WRITTEN
    return InvoicingOutcome(kind, record=written.record, draft=draft if written.wrote else None)


def _written_or_missing(
    records: BillingPeriodRepository,
    subject: BillingSubject | None,
    subscription_id: int,
    period_start: datetime,
) -> InvoicingOutcome:
    """The subscription or its workspace is gone: the period may still have been written by
    this subscription before (a redelivered message); otherwise there is nothing to do."""
    if subject is None:
        done = records.of_subscription(subscription_id=subscription_id, period_start=period_start)
    else:
        done = records.by_id(subject.record_of_subscription)
    if done is not None:
        return InvoicingOutcome(OutcomeKind.ALREADY_WRITTEN, record=done)
    return InvoicingOutcome(
        OutcomeKind.SUBSCRIPTION_MISSING,
        detail=f"subscription {subscription_id} or its workspace no longer exists",
    )


def _refusal(
    subscription: SubscriptionTerms,
    workspace: WorkspaceTerms,
    *,
    start: datetime,
    end: datetime,
    now: datetime,
) -> InvoicingOutcome | None:
    """Why this period is not to be written now, or None when it is."""
    if subscription.status.upper() != "ACTIVE" or not workspace.active:
        return InvoicingOutcome(
            OutcomeKind.NOT_BILLABLE,
            detail=f"subscription {subscription.status}, workspace active={workspace.active}",
        )
    due = next_due_period(subscription, now=now)
    if (start, end) != (due.start, due.end):
        kind = OutcomeKind.SUPERSEDED if start < due.start else OutcomeKind.EARLIER_PERIOD_DUE
        detail = f"the subscription's next period is {due.start:%Y-%m-%d}..{due.end:%Y-%m-%d}"
        return InvoicingOutcome(kind, due_start=due.start, detail=detail)
    if end > now:
        return InvoicingOutcome(OutcomeKind.NOT_ENDED, due_start=due.start, detail="not ended")
    return None
