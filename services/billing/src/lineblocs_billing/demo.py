"""The billing service's part of `lineblocs-jobs demo`: one monthly cycle, a decline, a retry.

Real actors on the in-process broker with worker threads, the fake payment gateway:
1. the distributor's actor enqueues one bill message per due subscription; the bill actor
   invoices and charges each (one card is declined: the invoice is FAILED, dunning scheduled);
2. the demo's clock moves past the first dunning due time (a day later) and the sweep actor
   enqueues the retry, whose new attempt succeeds.
Then it prints the invoices, the payment attempts and the events left for notifications.
"""

from __future__ import annotations

import importlib
import json
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from lineblocs_billing import bootstrap
from lineblocs_billing.schedules import (
    DISTRIBUTE_BILLS,
    SWEEP_DUNNING,
    DistributeBills,
    SweepDunning,
)
from lineblocs_billing.settling.gateways import FixedGateway
from lineblocs_shared.clock import FixedClock
from lineblocs_shared.db.uow import UnitOfWork
from lineblocs_shared.demo.runner import DemoContext, Row
from lineblocs_shared.models.billing import Invoice, Subscription
from lineblocs_shared.models.billing_runs import BillingPeriodRecord, PaymentAttempt
from lineblocs_shared.models.jobs import OutboxMessage
from lineblocs_shared.models.tenants import Workspace
from lineblocs_shared.payments import FakeGateway
from lineblocs_shared.queue.broker import declare_actors
from lineblocs_shared.site_settings.reader import SiteSettings

# Past the ladder's first step (1 day after the decline).
DUNNING_WAIT = timedelta(days=1, minutes=5)


def demo_step(ctx: DemoContext) -> None:
    clock = FixedClock(ctx.clock.now().replace(microsecond=0))
    gateway = FakeGateway(currency=_currency(ctx))
    gateways = FixedGateway(gateway)
    bootstrap.install(
        bootstrap.build(ctx.settings, engine=ctx.engine, clock=clock, gateways=gateways)
    )
    actors = importlib.import_module("lineblocs_billing.actors")  # binds to the demo's broker
    # An earlier broker of this process (tests, the demo) may have them already.
    declare_actors(ctx.broker, actors.BILLING_ACTORS)

    DISTRIBUTE_BILLS.send(ctx.broker, DistributeBills())
    ctx.run_queued_messages()
    billed_at = clock.now()
    clock.at = billed_at + DUNNING_WAIT
    SWEEP_DUNNING.send(ctx.broker, SweepDunning())
    ctx.run_queued_messages()

    ctx.report(
        f"Billing — invoices of the cycle run at {billed_at:%Y-%m-%d %H:%M} (cents)",
        ("workspace", "period", "plan", "calls", "DIDs", "tax", "total", "status", "tries"),
        _invoice_rows(ctx) + _not_due_rows(ctx),
    )
    ctx.report(
        "Billing — payment attempts (fake gateway; the declined card is retried by the dunning "
        f"sweep, run as if one day later: {clock.now():%Y-%m-%d %H:%M})",
        ("attempt key", "amount", "state", "decline"),
        _attempt_rows(ctx),
    )
    ctx.report(
        "Billing — events for notifications, as billing left them in its outbox (the "
        "notifications step below relays and mails them)",
        ("event", "ws", "invoice", "details", "relayed"),
        _event_rows(ctx),
    )


def _currency(ctx: DemoContext) -> str:
    with UnitOfWork(ctx.engine) as uow:
        return SiteSettings(bind=uow.session).default_currency


def _invoice_rows(ctx: DemoContext) -> list[Row]:
    stmt = (
        select(Invoice, col(Workspace.name), BillingPeriodRecord)
        .join(Workspace, col(Workspace.id) == col(Invoice.workspace_id))
        .join(BillingPeriodRecord, col(BillingPeriodRecord.invoice_id) == col(Invoice.id))
        .order_by(col(Invoice.workspace_id), col(Invoice.id))
    )
    with UnitOfWork(ctx.engine) as uow:
        found = uow.session.execute(stmt).all()
    return [
        (
            name.split()[0],  # short enough for an 80-column table
            f"{period.period_start:%Y-%m-%d}",
            str(invoice.membership_costs),
            str(invoice.call_costs),
            str(invoice.number_costs),
            str(invoice.cents_taxes),
            str(invoice.cents_including_taxes),
            invoice.status,
            str(invoice.num_attempts),
        )
        for invoice, name, period in found
    ]


def _not_due_rows(ctx: DemoContext) -> list[Row]:
    """Subscriptions this cycle did not bill (not due yet), with their next bill date: said,
    not silently left out."""
    billed = select(col(Invoice.workspace_id))
    stmt = (
        select(Subscription, col(Workspace.name))
        .join(Workspace, col(Workspace.id) == col(Subscription.workspace_id))
        .where(col(Subscription.workspace_id).not_in(billed))
        .order_by(col(Subscription.workspace_id))
    )
    with UnitOfWork(ctx.engine) as uow:
        found = uow.session.execute(stmt).all()
    return [
        (
            name.split()[0],
            f"({str(sub.billing_cycle).lower()})",
            *("-",) * 5,
            f"next {sub.next_billing_date:%Y-%m-%d}" if sub.next_billing_date else "not due",
            "0",
        )
        for sub, name in found
    ]


def _attempt_rows(ctx: DemoContext) -> list[Row]:
    with UnitOfWork(ctx.engine) as uow:
        attempts = uow.session.execute(
            select(PaymentAttempt).order_by(
                col(PaymentAttempt.workspace_id), col(PaymentAttempt.attempt_no)
            )
        ).scalars()
        return [
            (
                a.attempt_key,
                f"{a.amount_cents} {a.currency}",
                a.state,
                a.decline_code or "",
            )
            for a in attempts
        ]


def _event_rows(ctx: DemoContext) -> list[Row]:
    with UnitOfWork(ctx.engine) as uow:
        stmt = select(OutboxMessage).order_by(col(OutboxMessage.id))
        events = [(json.loads(e.payload), e) for e in uow.session.execute(stmt).scalars()]
    events.sort(key=lambda item: item[0]["workspace_id"])  # threads billed in any order
    return [
        (
            event.actor_name,
            str(payload["workspace_id"]),
            str(payload["invoice_id"]),
            _event_details(event.actor_name, payload),
            "yes" if event.published_at else "pending",
        )
        for payload, event in events
    ]


def _event_details(actor: str, payload: dict[str, Any]) -> str:
    if actor == "payment_receipt":
        return f"{payload['amount_cents']} {payload['currency']}, {payload['source'].lower()}"
    card = f"{payload.get('card_brand')} …{payload.get('card_last_4')}"
    return f"{payload['reason']}, {card}, try {payload['attempt']}"
