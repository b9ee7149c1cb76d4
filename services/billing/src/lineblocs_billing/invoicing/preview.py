"""The preview of a period's invoice: computed, nothing written (`lineblocs-jobs billing preview`).

The preview runs `compute_invoice` — the very computation billing writes — in a transaction it
rolls back. Number rentals not written yet are counted as billing would write them.
"""

from __future__ import annotations

import json
from datetime import date, datetime

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError, ProgrammingError

from lineblocs_billing.invoicing.draft import InvoiceDraft
from lineblocs_billing.invoicing.drafting import PlanMissing, SubscriptionMissing, compute_invoice
from lineblocs_billing.invoicing.periods import BillingPeriod, next_due_period, period_holding
from lineblocs_shared.db import ping
from lineblocs_shared.db.uow import UnitOfWork
from lineblocs_shared.errors import ExpectedFailure, SchemaError
from lineblocs_shared.models.billing import Subscription

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
    """The subscription's next billable period, or its period starting on `period_start`.

    A chosen start must be a boundary of the subscription's own series of periods (walked from
    its next one): any other day would price a whole cycle for part of one.
    """
    due = next_due_period(subscription, now=now)
    if period_start is None:
        return due
    period = period_holding(due, period_start)
    if period is None:
        raise PreviewRefused(
            f"--period-start {period_start} is too far from "
            f"subscription {subscription.id}'s next period ({due.start.date()})"
        )
    if period.start.date() != period_start:
        raise PreviewRefused(
            f"--period-start {period_start} is not a period start of subscription "
            f"{subscription.id}: its {period.cycle.value.lower()} periods start on "
            f"{period.start.date()} and {period.end.date()} around that day"
        )
    return period


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
