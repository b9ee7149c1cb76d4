"""`lineblocs-jobs billing preview`: a period's invoice computed, nothing written.

The preview runs `compute_invoice` — the very computation billing writes — in a transaction it
rolls back. Number rentals not written yet are counted as billing would write them.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time

from sqlalchemy.exc import OperationalError, ProgrammingError

from lineblocs_billing.composition import Billing
from lineblocs_billing.invoicing import (
    InvoiceDraft,
    PlanMissing,
    SubscriptionMissing,
    anchor_day_of,
    compute_invoice,
)
from lineblocs_billing.periods import (
    MONTHS_PER_CYCLE,
    BillingPeriod,
    first_due_period,
    shift_months,
)
from lineblocs_shared.db import ping
from lineblocs_shared.db.types import as_utc
from lineblocs_shared.errors import ConfigError, ExpectedFailure, SchemaError
from lineblocs_shared.models.billing import BillingCycle, Subscription
from lineblocs_shared.uow import UnitOfWork

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


def parse_now(text: str | None) -> datetime | None:
    """--now: ISO-8601; a time without zone is UTC."""
    if text is None:
        return None
    try:
        return as_utc(datetime.fromisoformat(text))
    except ValueError:
        raise ConfigError(f"--now {text!r} is not an ISO-8601 date and time") from None


def parse_day(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"--period-start {text!r} is not a YYYY-MM-DD date") from None


def period_to_preview(
    subscription: Subscription, *, period_start: date | None, now: datetime
) -> BillingPeriod:
    """The subscription's next billable period, or the one starting on `period_start`.

    A chosen start takes the time of day of the subscription's billing dates (midnight when it
    has none), so it names a period of the subscription's own series.
    """
    cycle = BillingCycle(subscription.billing_cycle)
    anchor = anchor_day_of(subscription)
    if period_start is None:
        return first_due_period(
            next_billing_date=subscription.next_billing_date,
            cycle=cycle,
            anchor_day=anchor,
            now=now,
        )
    at = subscription.next_billing_date.timetz() if subscription.next_billing_date else time()
    start = datetime.combine(period_start, at.replace(tzinfo=None), tzinfo=UTC)
    day = anchor or period_start.day
    end = shift_months(start, MONTHS_PER_CYCLE[cycle], day)
    return BillingPeriod(start=start, end=end, cycle=cycle, anchor_day=day)


def preview_invoice(
    deps: Billing, *, subscription_id: int, period_start: date | None, now: datetime | None
) -> InvoiceDraft:
    ping(deps.engine)
    with UnitOfWork(deps.engine) as uow:
        try:
            subscription = uow.subscriptions.get(subscription_id=subscription_id)
            if subscription is None:
                raise PreviewRefused(f"subscription {subscription_id} does not exist")
            period = period_to_preview(
                subscription, period_start=period_start, now=now or deps.clock.now()
            )
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
        "settle": draft.settle.value,
        "amount_to_charge": draft.amount_to_charge,
    }
    assert tuple(document) == PREVIEW_KEYS
    return document


def preview_json(
    deps: Billing, *, subscription_id: int, period_start: date | None, now: datetime | None
) -> str:
    draft = preview_invoice(
        deps, subscription_id=subscription_id, period_start=period_start, now=now
    )
    return json.dumps(preview_document(draft))
