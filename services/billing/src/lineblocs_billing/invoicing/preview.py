"""The preview of a period's invoice: computed, nothing written (`lineblocs-jobs billing preview`).

The preview runs `compute_invoice` — the very computation billing writes — in a transaction it
rolls back. Number rentals not written yet are counted as billing would write them.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError, ProgrammingError

from lineblocs_billing.invoicing.draft import InvoiceDraft
from lineblocs_billing.invoicing.drafting import PlanMissing, SubscriptionMissing, compute_invoice
from lineblocs_billing.invoicing.periods import (
    MONTHS_PER_CYCLE,
    BillingPeriod,
    anchor_day_of,
    next_due_period,
    shift_months,
)
from lineblocs_shared.db import ping
from lineblocs_shared.db.uow import UnitOfWork
from lineblocs_shared.errors import ExpectedFailure, SchemaError
from lineblocs_shared.models.billing import BillingCycle, Subscription

PREVIEW_KEYS = (
    "workspace_id",
    "subscription_id",
    "cycle",
    "period_start",
    "period_end",
    "seats",
    "membership_costs",
    "call_costs",
    "recording_costs",
    "fax_costs",
    "number_costs",
    "cents",
    "cents_taxes",
    "cents_including_taxes",
    "settle",
    "amount_to_charge",
)


class PreviewRefused(ExpectedFailure):
    """No invoice can be computed: unknown subscription, or a plan that does not exist."""


def period_to_preview(
    subscription: Subscription, *, period_start: date | None, now: datetime
) -> BillingPeriod:
    """The subscription's next billable period, or the one starting on `period_start`.

    A chosen start takes the time of day of the subscription's billing dates (midnight when it
    has none), so it names a period of the subscription's own series.
    """
    if period_start is None:
        return next_due_period(subscription, now=now)
    cycle = BillingCycle(subscription.billing_cycle)
    anchor = anchor_day_of(subscription)
    at = subscription.next_billing_date.timetz() if subscription.next_billing_date else time()
    start = datetime.combine(period_start, at.replace(tzinfo=None), tzinfo=UTC)
    day = anchor or period_start.day
    end = shift_months(start, MONTHS_PER_CYCLE[cycle], day)
    return BillingPeriod(start=start, end=end, cycle=cycle, anchor_day=day)


def preview_invoice(
    engine: Engine, *, subscription_id: int, period_start: date | None, now: datetime
) -> InvoiceDraft:
    """The draft of the period, computed in a transaction that is rolled back."""
    ping(engine)
    with UnitOfWork(engine) as uow:
        try:
            subscription = uow.subscriptions.get(subscription_id=subscription_id)
            if subscription is None:
                raise PreviewRefused(f"subscription {subscription_id} does not exist")
            period = period_to_preview(subscription, period_start=period_start, now=now)
            return compute_invoice(uow, subscription_id=subscription_id, period=period)
        except (SubscriptionMissing, PlanMissing) as exc:
            raise PreviewRefused(str(exc)) from None
        except (OperationalError, ProgrammingError) as exc:
            raise SchemaError(
                f"cannot read the Lineblocs tables ({str(exc.orig).splitlines()[0]})"
            ) from None
        finally:
            uow.rollback()


def preview_document(draft: InvoiceDraft) -> dict[str, object]:
    document: dict[str, object] = {
        "workspace_id": draft.workspace_id,
        "subscription_id": draft.subscription_id,
        "cycle": draft.cycle.value,
        "period_start": draft.period.start.date().isoformat(),
        "period_end": draft.period.end.date().isoformat(),
        "seats": draft.seats,
        "membership_costs": draft.membership_costs,
        "call_costs": draft.call_costs,
        "recording_costs": draft.recording_costs,
        "fax_costs": draft.fax_costs,
        "number_costs": draft.number_costs,
        "cents": draft.cents,
        "cents_taxes": draft.cents_taxes,
        "cents_including_taxes": draft.cents_including_taxes,
        "settle": draft.pay_by.value,
        "amount_to_charge": draft.amount_to_charge,
    }
    assert tuple(document) == PREVIEW_KEYS
    return document


def preview_json(
    engine: Engine, *, subscription_id: int, period_start: date | None, now: datetime
) -> str:
    draft = preview_invoice(
        engine, subscription_id=subscription_id, period_start=period_start, now=now
    )
    return json.dumps(preview_document(draft))
