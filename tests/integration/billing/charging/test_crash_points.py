"""A worker killed at each point of a charge, then the message redelivered: one charge, ever.

The kill is a BaseException out of the gateway call (nothing after it runs, no `except
Exception` sees it); the redelivery calls the same handler again, as RabbitMQ would.
"""

from __future__ import annotations

import pytest
from sqlalchemy import delete, update
from sqlmodel import col

from lineblocs_billing.settling.outcome import SettlingOutcome
from lineblocs_shared.db.uow import UnitOfWork
from lineblocs_shared.models.billing import Card
from lineblocs_shared.models.billing_runs import PaymentAttempt
from lineblocs_shared.models.tenants import User
from tests.integration.billing.charging.conftest import Billed, CrashingGateway, WorkerKilled
from tests.integration.billing.invoicing.scenario import Tenant

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("point", "state_after_kill"),
    [
        # the attempt row is committed, the gateway never called
        ("before_create", "pending"),
        # the payment exists at the gateway, its id never reached us: found by the attempt key
        ("after_create", "pending"),
        # the payment id is committed, nothing confirmed yet: the redelivery confirms it
        ("before_confirm", "created"),
        # the money is taken, the outcome not recorded: the redelivery finds it succeeded
        ("after_confirm", "created"),
    ],
)
def test_a_redelivery_after_a_kill_resumes_the_attempt_and_charges_once(
    billed: Billed, point: str, state_after_kill: str
) -> None:
    gateway = CrashingGateway(billed.fake, crash_at={point})
    billed.use(gateway)
    tenant = billed.tenant(card="pm_card_ok")

    with pytest.raises(WorkerKilled):
        billed.bill(tenant)
    [unresolved] = billed.attempts(tenant)
    assert unresolved.state == state_after_kill
    assert billed.invoice(tenant).status == "PENDING"  # the invoice itself was committed

    report = billed.bill(tenant)  # the redelivery

    assert [p.settled for p in report.periods] == [SettlingOutcome.PAID]
    [attempt] = billed.attempts(tenant)  # resumed, never a second attempt
    assert (attempt.attempt_key, attempt.state) == (unresolved.attempt_key, "succeeded")
    assert billed.fake.successful_charges() == {attempt.attempt_key: 1}
    assert billed.fake.calls["create"] == 1  # created once, whatever was lost
    invoice = billed.invoice(tenant)
    assert (invoice.status, invoice.num_attempts) == ("PAID", 1)
    assert invoice.payment_gateway_id == attempt.gateway_payment_id
    assert len(billed.payments(tenant)) == 1
    assert len(billed.events("payment_receipt", tenant)) == 1


def test_two_kills_in_a_row_still_charge_once(billed: Billed) -> None:
    gateway = CrashingGateway(billed.fake, crash_at={"after_create"})
    billed.use(gateway)
    tenant = billed.tenant(card="pm_card_ok")
    with pytest.raises(WorkerKilled):
        billed.bill(tenant)
    gateway.crash_at = {"after_confirm"}
    with pytest.raises(WorkerKilled):
        billed.bill(tenant)

    billed.bill(tenant)
    billed.bill(tenant)  # and one more copy, after it is all done

    assert sum(billed.fake.successful_charges().values()) == 1
    assert [a.state for a in billed.attempts(tenant)] == ["succeeded"]
    assert len(billed.events("payment_receipt", tenant)) == 1


def test_a_kill_before_a_decline_is_recorded_notifies_once(billed: Billed) -> None:
    billed.customize(billing_retry_enabled=True)
    billed.use(CrashingGateway(billed.fake, crash_at={"after_confirm"}))
    tenant = billed.tenant(card="pm_card_decline")
    with pytest.raises(WorkerKilled):
        billed.bill(tenant)

    report = billed.bill(tenant)

    assert [p.settled for p in report.periods] == [SettlingOutcome.DECLINED]
    assert [a.state for a in billed.attempts(tenant)] == ["declined"]
    assert len(billed.events("payment_failed", tenant)) == 1
    assert billed.record(tenant).dunning_attempts == 1


def _change_card(billed: Billed, tenant: Tenant, *, method: str | None, customer: str) -> None:
    """The customer edits their billing details on the site (None: removes the card)."""
    cards = Card
    with UnitOfWork(billed.engine) as uow:
        of_tenant = col(cards.workspace_id) == tenant.workspace_id
        if method is None:
            uow.session.execute(delete(cards).where(of_tenant))
        else:
            uow.session.execute(
                update(cards).where(of_tenant).values(stripe_payment_method_id=method)
            )
        uow.session.execute(
            update(User).where(col(User.id) == tenant.user.id).values(stripe_id=customer)
        )
        uow.commit()


def test_a_resumed_attempt_charges_what_it_was_made_with(billed: Billed) -> None:
    # Stripe refuses an idempotency key sent again with other parameters; the attempt's request
    # is its own, and the new card is for the next attempt.
    billed.use(CrashingGateway(billed.fake, crash_at={"before_create"}))
    tenant = billed.tenant(card="pm_card_ok", customer="cus_first")
    with pytest.raises(WorkerKilled):
        billed.bill(tenant)
    _change_card(billed, tenant, method="pm_card_decline", customer="cus_second")

    report = billed.bill(tenant)

    assert [p.settled for p in report.periods] == [
        SettlingOutcome.PAID
    ]  # the decline card: DECLINED
    [attempt] = billed.attempts(tenant)
    assert (attempt.customer_id, attempt.payment_method_id) == ("cus_first", "pm_card_ok")


def test_an_attempt_in_flight_is_resolved_after_its_card_is_removed(billed: Billed) -> None:
    billed.use(CrashingGateway(billed.fake, crash_at={"after_confirm"}))  # the money is taken
    tenant = billed.tenant(card="pm_card_ok", customer="cus_first")
    with pytest.raises(WorkerKilled):
        billed.bill(tenant)
    _change_card(billed, tenant, method=None, customer="cus_first")

    report = billed.bill(tenant)

    assert [p.settled for p in report.periods] == [SettlingOutcome.PAID]
    assert sum(billed.fake.successful_charges().values()) == 1
    assert billed.invoice(tenant).status == "PAID"


def test_an_attempt_older_than_pinned_cards_resumes_with_the_current_card(billed: Billed) -> None:
    billed.use(CrashingGateway(billed.fake, crash_at={"before_create"}))
    tenant = billed.tenant(card="pm_card_ok", customer="cus_first")
    with pytest.raises(WorkerKilled):
        billed.bill(tenant)
    with UnitOfWork(billed.engine) as uow:  # as written before migration 0004
        of_tenant = col(PaymentAttempt.workspace_id) == tenant.workspace_id
        unpinned = update(PaymentAttempt).where(of_tenant)
        uow.session.execute(unpinned.values(customer_id=None, payment_method_id=None))
        uow.commit()
    _change_card(billed, tenant, method="pm_card_other", customer="cus_second")

    report = billed.bill(tenant)

    assert [p.settled for p in report.periods] == [SettlingOutcome.PAID]
    [attempt] = billed.attempts(tenant)
    assert (attempt.customer_id, attempt.payment_method_id) == ("cus_second", "pm_card_other")
