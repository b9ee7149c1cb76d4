"""The demo's billing cycle (SQLite, in-process broker, fake gateway): one decline, one retry."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from lineblocs_billing.demo import demo_step
from lineblocs_shared.clock import FixedClock
from lineblocs_shared.db.uow import UnitOfWork
from lineblocs_shared.demo.runner import prepare
from lineblocs_shared.demo.seed import DECLINE_ONCE_TENANT
from lineblocs_shared.models.billing import Invoice
from lineblocs_shared.models.billing_runs import BillingPeriodRecord, PaymentAttempt
from lineblocs_shared.models.jobs import DeadLetter, OutboxMessage

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_the_demo_bills_a_month_declines_one_card_and_the_dunning_retry_collects_it(
    tmp_path: Path,
) -> None:
    ctx = prepare(tmp_path / "demo.sqlite3", clock=FixedClock(NOW))
    declined_ws = ctx.dataset.workspaces[DECLINE_ONCE_TENANT]

    demo_step(ctx)

    with UnitOfWork(ctx.engine) as uow:
        invoices = uow.session.execute(select(Invoice)).scalars().all()
        periods = uow.session.execute(select(BillingPeriodRecord)).scalars().all()
        attempts = uow.session.execute(select(PaymentAttempt)).scalars().all()
        events = uow.session.execute(select(OutboxMessage)).scalars().all()
        dead = uow.session.execute(select(DeadLetter)).scalars().all()
    # Four monthly subscriptions were due (the annual one is not): four invoices, all paid.
    assert len(invoices) == 4
    assert {(i.status, i.cents_collected == i.cents_including_taxes) for i in invoices} == {
        ("PAID", True)
    }
    assert {p.state for p in periods} == {"paid"}
    declined = [a for a in attempts if a.workspace_id == declined_ws]
    assert [(a.attempt_no, a.state, a.decline_code) for a in declined] == [
        (1, "declined", "card_declined"),
        (2, "succeeded", None),
    ]
    assert declined[0].attempt_key != declined[1].attempt_key
    [globex] = [i for i in invoices if i.workspace_id == declined_ws]
    assert (globex.num_attempts, globex.payment_gateway_id) == (2, declined[1].gateway_payment_id)
    # The decline was announced once, and every invoice got one receipt.
    kinds = [(e.actor_name, json.loads(e.payload)["workspace_id"]) for e in events]
    assert kinds.count(("payment_failed", declined_ws)) == 1
    assert sorted(ws for actor, ws in kinds if actor == "payment_receipt") == sorted(
        i.workspace_id for i in invoices
    )
    assert dead == []
    titles = [section.title for section in ctx.sections]
    assert any(title.startswith("Billing — invoices") for title in titles)
