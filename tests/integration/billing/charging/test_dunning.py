"""Dunning (R-DUN-1, R-DUN-2): the ladder's due times in the database, the sweep, new keys,
and one suspension after the last failure."""

from __future__ import annotations

from datetime import timedelta

import pytest

from lineblocs_billing.distribution.sweep import sweep
from lineblocs_billing.settling.outcome import SettlingOutcome
from lineblocs_shared.contracts import RETRY_INVOICE_PAYMENT
from lineblocs_shared.queue.bulk import RecordingMessagePublisher
from tests.integration.billing.charging.conftest import Billed
from tests.integration.billing.invoicing.scenario import NOW
from tests.integration.billing.invoicing.scenario import bill as invoice_only

pytestmark = pytest.mark.integration

DAY = timedelta(days=1)


def test_a_card_that_keeps_failing_walks_the_ladder_then_is_suspended_once(
    billed: Billed,
) -> None:
    billed.customize(billing_retry_enabled=True, billing_num_retries=0)  # 0 means 3
    tenant = billed.tenant(card="pm_card_decline")
    billed.bill(tenant)
    due_times = [billed.record(tenant).next_attempt_at]

    for _ in range(3):
        due = billed.record(tenant).next_attempt_at
        assert due is not None
        billed.advance(due - billed.clock.now())
        assert billed.retry(tenant) is SettlingOutcome.DECLINED
        due_times.append(billed.record(tenant).next_attempt_at)

    # 1, 3 and 7 days after each previous try; none after the last one.
    assert due_times == [NOW + DAY, NOW + 4 * DAY, NOW + 11 * DAY, None]
    attempts = billed.attempts(tenant)
    assert [a.attempt_no for a in attempts] == [1, 2, 3, 4]
    assert len({a.attempt_key for a in attempts}) == 4  # a new key each try
    assert [a.state for a in attempts] == ["declined"] * 4
    notices = billed.events("payment_failed", tenant)
    assert sorted(n["attempt"] for n in notices) == [1, 2, 3, 4]
    record = billed.record(tenant)
    assert (record.state, record.dunning_attempts) == ("gave_up", 4)
    [suspension] = billed.suspensions(tenant)
    invoice = billed.invoice(tenant)
    assert (suspension.status, suspension.reason) == ("INITIATED", "unpaid_invoice")
    assert suspension.invoice_id == invoice.id
    assert suspension.suspended_at == suspension.suspension_initiated_at == billed.clock.now()
    assert (invoice.status, invoice.num_attempts) == ("FAILED", 4)

    billed.advance(30 * DAY)
    assert billed.retry(tenant) is SettlingOutcome.NOTHING_TO_DO  # a stray copy of a retry
    billed.bill(tenant)
    assert len(billed.suspensions(tenant)) == 1
    assert len(billed.attempts(tenant)) == 4


def test_more_retries_than_the_ladder_wait_seven_days_each(billed: Billed) -> None:
    billed.customize(billing_retry_enabled=True, billing_num_retries=5)
    tenant = billed.tenant(card="pm_card_decline")
    billed.bill(tenant)
    waits = []
    for _ in range(5):
        before = billed.clock.now()
        due = billed.record(tenant).next_attempt_at
        assert due is not None
        waits.append(due - before)
        billed.advance(due - before)
        billed.retry(tenant)

    assert waits == [DAY, 3 * DAY, 7 * DAY, 7 * DAY, 7 * DAY]
    assert billed.record(tenant).state == "gave_up"
    assert len(billed.suspensions(tenant)) == 1


def test_a_retry_before_its_due_time_does_nothing(billed: Billed) -> None:
    billed.customize(billing_retry_enabled=True)
    tenant = billed.tenant(card="pm_card_decline")
    billed.bill(tenant)
    billed.advance(DAY - timedelta(seconds=1))

    assert billed.retry(tenant) is SettlingOutcome.NOT_DUE
    assert len(billed.attempts(tenant)) == 1


def test_a_retry_that_succeeds_pays_the_invoice_with_the_new_attempt(billed: Billed) -> None:
    billed.customize(billing_retry_enabled=True)
    tenant = billed.tenant(card="pm_demo_decline_once")
    billed.bill(tenant)
    billed.advance(DAY)

    assert billed.retry(tenant) is SettlingOutcome.PAID

    first, second = billed.attempts(tenant)
    assert (first.state, second.state) == ("declined", "succeeded")
    invoice = billed.invoice(tenant)
    assert (invoice.status, invoice.num_attempts) == ("PAID", 2)
    assert invoice.payment_gateway_id == second.gateway_payment_id
    assert billed.record(tenant).state == "paid"
    assert billed.suspensions(tenant) == []


def test_with_dunning_off_a_failed_invoice_is_not_retried_nor_suspended(billed: Billed) -> None:
    tenant = billed.tenant(card="pm_card_decline")  # billing_retry_enabled unset: off

    billed.bill(tenant)

    record = billed.record(tenant)
    assert (record.state, record.next_attempt_at) == ("failed", None)
    assert billed.suspensions(tenant) == []
    billed.advance(60 * DAY)
    publisher = RecordingMessagePublisher()
    sweep(billed.engine, publisher, now=billed.clock.now(), resettle_after=timedelta(hours=1))
    assert publisher.published == []


def test_the_sweep_enqueues_only_due_periods_with_stable_message_ids(billed: Billed) -> None:
    billed.customize(billing_retry_enabled=True)
    due = billed.tenant(card="pm_card_decline")
    billed.bill(due)
    billed.advance(timedelta(hours=12))
    later = billed.tenant(card="pm_card_decline")
    billed.bill(later)  # its first retry is due 12 hours after `due`'s
    paid = billed.tenant(card="pm_card_ok")
    billed.bill(paid)
    stuck = billed.tenant(card="pm_card_ok")
    invoice_only(billed.engine, stuck, now=billed.clock.now())  # its bill message died here
    billed.advance(timedelta(hours=13))  # past `due`'s retry time, not `later`'s

    first, second = RecordingMessagePublisher(), RecordingMessagePublisher()
    for publisher in (first, second):
        report = sweep(
            billed.engine, publisher, now=billed.clock.now(), resettle_after=timedelta(hours=1)
        )
        assert (report.due, report.enqueued, report.failed) == (2, 2, [])

    messages = first.published
    assert {m.actor_name for m in messages} == {RETRY_INVOICE_PAYMENT.actor}
    swept = {RETRY_INVOICE_PAYMENT.parse(m.kwargs).billing_period_id for m in messages}
    assert swept == {billed.record(due).id, billed.record(stuck).id}
    assert [m.message_id for m in first.published] == [m.message_id for m in second.published]


def test_the_retry_of_a_stuck_invoiced_period_charges_it(billed: Billed) -> None:
    tenant = billed.tenant(card="pm_card_ok")
    invoice_only(billed.engine, tenant, now=billed.clock.now())  # settling never ran
    billed.advance(timedelta(hours=2))

    assert billed.retry(tenant) is SettlingOutcome.PAID
    assert billed.invoice(tenant).status == "PAID"
