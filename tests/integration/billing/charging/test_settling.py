"""Settling an invoice: paid by card, declined, no card, pay-as-you-go.

Rules R-CARD-1 to R-CARD-4 and R-PAYG-3 (docs/billing-rules.md).
"""

from __future__ import annotations

import re
from collections import Counter

import pytest

from lineblocs_billing.settling.outcome import SettlingOutcome
from lineblocs_billing.settling.settle import PeriodBusy, settle_period
from lineblocs_shared.db.uow import UnitOfWork
from tests.integration.billing.charging.conftest import Billed
from tests.integration.billing.invoicing.scenario import NOW, Tenant, add_call, add_credit
from tests.support.statements import counting

pytestmark = pytest.mark.integration

INVOICE_TOTAL = 2499  # one seat of the basic plan, no usage, no tax


def test_a_card_plan_is_charged_once_and_its_invoice_paid(any_billed: Billed) -> None:
    billed = any_billed
    tenant = billed.tenant(card="pm_card_ok")

    report = billed.bill(tenant)

    assert [p.settled for p in report.periods] == [SettlingOutcome.PAID]
    invoice = billed.invoice(tenant)
    [attempt] = billed.attempts(tenant)
    assert attempt.attempt_key == f"lineblocs_{tenant.workspace_id}_20261001_1"
    assert (attempt.state, attempt.amount_cents, attempt.currency) == ("succeeded", 2499, "CAD")
    assert (invoice.status, invoice.cents_collected, invoice.num_attempts) == ("PAID", 2499, 1)
    assert invoice.payment_gateway_id == attempt.gateway_payment_id is not None
    assert invoice.paid_date == invoice.complete_date == invoice.last_attempted == NOW
    assert re.fullmatch(r"INV-[0-9A-F]{8}", invoice.confirmation_number or "")
    [payment] = billed.payments(tenant)
    assert (payment.cents, payment.source, payment.status) == (2499, "CARD", "PAID")
    assert payment.user_id == tenant.user.id
    record = billed.record(tenant)
    assert (record.state, record.next_attempt_at) == ("paid", None)
    [receipt] = billed.events("payment_receipt", tenant)
    assert (receipt["amount_cents"], receipt["source"], receipt["currency"]) == (
        2499,
        "CARD",
        "CAD",
    )
    assert receipt["invoice_id"] == invoice.id
    assert billed.fake.successful_charges() == {attempt.attempt_key: 1}


def test_a_redelivered_bill_of_a_paid_period_charges_nothing(billed: Billed) -> None:
    tenant = billed.tenant()
    billed.bill(tenant)

    again = billed.bill(tenant)

    assert [p.settled for p in again.periods] == [SettlingOutcome.NOTHING_TO_DO]
    assert len(billed.attempts(tenant)) == 1
    assert len(billed.events("payment_receipt", tenant)) == 1
    assert sum(billed.fake.successful_charges().values()) == 1


def test_a_decline_fails_the_invoice_notifies_once_and_completes_normally(
    billed: Billed,
) -> None:
    billed.customize(billing_retry_enabled=True, billing_num_retries=3)
    tenant = billed.tenant(card="pm_card_decline")

    report = billed.bill(tenant)  # no exception: a decline is a business outcome

    assert [p.settled for p in report.periods] == [SettlingOutcome.DECLINED]
    invoice = billed.invoice(tenant)
    assert (invoice.status, invoice.num_attempts, invoice.last_attempted) == ("FAILED", 1, NOW)
    assert (invoice.cents_collected, invoice.paid_date) == (0, None)
    [attempt] = billed.attempts(tenant)
    assert (attempt.state, attempt.decline_code) == ("declined", "card_declined")
    [notice] = billed.events("payment_failed", tenant)
    assert notice["reason"] == "card_declined"
    assert (notice["card_brand"], notice["card_last_4"], notice["attempt"]) == (
        "mastercard",
        "4444",
        1,
    )
    assert (notice["amount_cents"], notice["invoice_id"]) == (INVOICE_TOTAL, invoice.id)
    record = billed.record(tenant)
    assert (record.state, record.dunning_attempts) == ("failed", 1)
    assert record.next_attempt_at == NOW.replace(day=24)
    assert billed.payments(tenant) == []

    billed.bill(tenant)  # redelivered: dunning owns the period now
    assert len(billed.attempts(tenant)) == 1
    assert len(billed.events("payment_failed", tenant)) == 1


def test_no_card_fails_the_invoice_without_calling_the_gateway(billed: Billed) -> None:
    billed.customize(billing_retry_enabled=True)
    tenant = billed.tenant(card=None)

    report = billed.bill(tenant)

    assert [p.settled for p in report.periods] == [SettlingOutcome.NO_CARD]
    assert sum(billed.fake.calls.values()) == 0
    assert billed.attempts(tenant) == []
    invoice = billed.invoice(tenant)
    assert (invoice.status, invoice.num_attempts) == ("FAILED", 1)
    [notice] = billed.events("payment_failed", tenant)
    assert (notice["reason"], notice["card_last_4"]) == ("no_card", None)
    assert billed.record(tenant).next_attempt_at == NOW.replace(day=24)  # dunning applies


def test_a_card_of_a_customer_without_stripe_id_is_no_card(billed: Billed) -> None:
    tenant = billed.tenant(card="pm_card_ok", customer="")

    billed.bill(tenant)

    assert sum(billed.fake.calls.values()) == 0
    [notice] = billed.events("payment_failed", tenant)
    assert notice["reason"] == "no_card"


def _payg_tenant(billed: Billed, *, credits: int) -> Tenant:
    tenant = billed.tenant(monthly_cost_cents=0, minutes_per_month=0, plan={"pay_as_you_go": True})
    with UnitOfWork(billed.engine) as uow:
        add_call(uow, tenant, cents=500, duration=600)
        add_credit(uow, tenant, cents=credits)
        uow.commit()
    return tenant


def test_payg_covered_by_credits_is_paid_from_credits_and_charges_nothing(
    billed: Billed,
) -> None:
    tenant = _payg_tenant(billed, credits=500)  # balance 500 - 500 = 0

    report = billed.bill(tenant)

    assert [p.settled for p in report.periods] == [SettlingOutcome.PAID_FROM_CREDITS]
    invoice = billed.invoice(tenant)
    assert (invoice.status, invoice.source, invoice.cents_collected) == ("PAID", "CREDITS", 500)
    assert (invoice.payment_gateway_id, invoice.num_attempts) == (None, 0)
    assert billed.attempts(tenant) == []
    assert billed.payments(tenant) == []
    assert sum(billed.fake.calls.values()) == 0
    [receipt] = billed.events("payment_receipt", tenant)
    assert (receipt["source"], receipt["amount_cents"]) == ("CREDITS", 500)


def test_payg_short_of_credits_charges_the_shortfall_to_the_card(billed: Billed) -> None:
    tenant = _payg_tenant(billed, credits=200)  # balance 200 - 500 = -300

    billed.bill(tenant)

    [attempt] = billed.attempts(tenant)
    assert (attempt.state, attempt.amount_cents) == ("succeeded", 300)
    invoice = billed.invoice(tenant)
    assert (invoice.status, invoice.cents_including_taxes, invoice.cents_collected) == (
        "PAID",
        500,
        500,
    )
    [payment] = billed.payments(tenant)
    assert (payment.cents, payment.source) == (300, "CARD")
    assert billed.fake.charged_cents() == 300


def test_an_invoice_paid_on_the_site_meanwhile_is_not_charged(billed: Billed) -> None:
    tenant = billed.tenant(card="pm_card_decline")
    billed.customize(billing_retry_enabled=True)
    billed.bill(tenant)
    with UnitOfWork(billed.engine) as uow:
        invoice = uow.invoices.get(invoice_id=billed.invoice(tenant).id or 0)
        assert invoice is not None
        invoice.status = "PAID"
        uow.session.add(invoice)
        uow.commit()
    billed.advance(NOW.replace(day=25) - NOW)

    assert billed.retry(tenant) is SettlingOutcome.NOTHING_TO_DO

    assert len(billed.attempts(tenant)) == 1
    assert billed.record(tenant).state == "paid"


def test_a_period_settled_elsewhere_right_now_is_retried_later_not_charged(
    billed: Billed,
) -> None:
    tenant = billed.tenant(card="pm_card_decline")
    billed.bill(tenant)
    period_id = billed.record(tenant).id
    assert period_id is not None

    # Another worker holds the period (MariaDB GET_LOCK on its own connection).
    with billed.deps.period_locks.hold(period_id) as mine:
        assert mine
        with pytest.raises(PeriodBusy):
            settle_period(billed.deps, period_id=period_id)

    assert len(billed.attempts(tenant)) == 1


def _writes(statements: list[str]) -> Counter[str]:
    """How many times each kind of write was sent: 'UPDATE users_invoices' → 1, …"""
    writes: Counter[str] = Counter()
    for statement in statements:
        words = statement.split()
        if words[0] == "UPDATE":
            writes[f"UPDATE {words[1]}"] += 1
        elif words[0] == "INSERT":  # INSERT INTO <table> (…)
            writes[f"INSERT {words[2]}"] += 1
    return writes


def test_settling_writes_each_row_once_and_leaves_nothing_for_a_later_flush(
    billed: Billed,
) -> None:
    # Settling writes with Core statements and keeps the loaded rows in step without marking
    # them dirty: a second UPDATE at commit would rewrite a row from stale values.
    tenant = billed.tenant(card="pm_card_ok")
    with counting(billed.engine) as statements:
        billed.bill(tenant)

    writes = _writes(statements)
    assert writes["UPDATE users_invoices"] == 1, statements
    assert writes["INSERT users_invoices_payments"] == 1
    assert writes["INSERT lbj_outbox"] == 1
    # Its lease before the gateway call and its outcome after; plus the invoice written.
    assert writes["UPDATE lbj_billing_periods"] == 3
    assert writes["UPDATE lbj_payment_attempts"] == 2  # created, then succeeded
    assert (billed.record(tenant).state, billed.invoice(tenant).status) == ("paid", "PAID")
