"""Pure parts of charging: the dunning ladder, attempt keys, period locks, the worker prefetch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from dramatiq import Worker
from dramatiq.brokers.stub import StubBroker
from pydantic import ValidationError

from lineblocs_billing.settling.attempts import attempt_key
from lineblocs_billing.settling.dunning import DunningPolicy
from lineblocs_billing.settling.locks import InProcessPeriodLocks
from lineblocs_billing.settling.paid import confirmation_number
from lineblocs_shared.cards import last_four
from lineblocs_shared.contracts import PaymentFailed
from lineblocs_shared.queue.inprocess_worker import start_worker
from lineblocs_shared.queue.prefetch import QueuePrefetch

FAILED_AT = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def _schedule(policy: DunningPolicy, tries: int) -> list[datetime | None]:
    return [policy.next_try(failures=n, failed_at=FAILED_AT) for n in range(1, tries + 1)]


def test_enabled_with_zero_retries_means_three_at_one_three_and_seven_days() -> None:
    policy = DunningPolicy.of(retry_enabled=True, num_retries=0)

    assert policy.retries == 3
    assert _schedule(policy, 4) == [FAILED_AT + DAY, FAILED_AT + 3 * DAY, FAILED_AT + 7 * DAY, None]
    assert [policy.gives_up(failures=n) for n in (1, 2, 3, 4)] == [False, False, False, True]


def test_retries_past_the_ladder_wait_seven_days_each() -> None:
    policy = DunningPolicy.of(retry_enabled=True, num_retries=6)

    waits = [t - FAILED_AT for t in _schedule(policy, 6) if t is not None]

    assert waits == [DAY, 3 * DAY, 7 * DAY, 7 * DAY, 7 * DAY, 7 * DAY]
    assert policy.gives_up(failures=7)


def test_one_retry_then_give_up() -> None:
    policy = DunningPolicy.of(retry_enabled=True, num_retries=1)

    assert _schedule(policy, 2) == [FAILED_AT + DAY, None]
    assert policy.gives_up(failures=2)


def test_dunning_off_never_retries_and_never_suspends() -> None:
    policy = DunningPolicy.of(retry_enabled=False, num_retries=5)

    assert _schedule(policy, 3) == [None, None, None]
    assert not any(policy.gives_up(failures=n) for n in range(1, 10))


def test_the_ladder_counts_failures_from_one() -> None:
    with pytest.raises(ValueError, match="from 1"):
        DunningPolicy.of(retry_enabled=True, num_retries=3).delay_after(0)


def test_attempt_keys_follow_the_rules_and_differ_per_try() -> None:
    start = datetime(2026, 10, 1, tzinfo=UTC)

    assert attempt_key(42, start, 1) == "lineblocs_42_20261001_1"
    assert attempt_key(42, start, 2) == "lineblocs_42_20261001_2"


def test_confirmation_numbers_are_inv_and_eight_upper_hex_digits() -> None:
    numbers = {confirmation_number() for _ in range(50)}

    assert all(n.startswith("INV-") and len(n) == 12 for n in numbers)
    assert all(c in "0123456789ABCDEF" for n in numbers for c in n[4:])
    assert len(numbers) > 45  # random, not a constant like the Go code's "123"


def test_a_period_held_by_one_settler_is_refused_to_another_until_released() -> None:
    locks = InProcessPeriodLocks()

    with locks.hold(7) as first, locks.hold(7) as second, locks.hold(8) as other:
        assert (first, second, other) == (True, False, True)
    with locks.hold(7) as again:
        assert again


@pytest.mark.parametrize(("configured", "expected"), [(0, 3), (1, 1)])
def test_a_billing_worker_prefetches_one_message_per_thread(configured: int, expected: int) -> None:
    broker = StubBroker(middleware=[QueuePrefetch(configured)])
    broker.declare_queue("billing")
    worker = Worker(broker, worker_threads=3, worker_timeout=100)
    assert worker.queue_prefetch == 6  # Dramatiq's default: threads x 2
    start_worker(worker)
    try:
        assert worker.consumers["billing"].prefetch == expected
    finally:
        worker.stop()
        broker.close()


@pytest.mark.parametrize(
    ("column", "event"),
    [
        ("4242", "4242"),
        ("4242424242424242", "4242"),  # a whole card number stored by mistake
        ("4242 4242 4242 4243", "4243"),
        ("**** 1881", "1881"),
        ("42", "42"),
        ("", None),
        (None, None),
        ("visa", None),
    ],
)
def test_a_failure_event_carries_at_most_the_last_four_digits_of_the_card(
    column: str | None, event: str | None
) -> None:
    assert last_four(column) == event
    assert failure_event(card_last_4=event).card_last_4 == event


def test_the_failure_contract_refuses_more_than_four_digits() -> None:
    with pytest.raises(ValidationError):
        failure_event(card_last_4="4242424242424242")


def failure_event(*, card_last_4: str | None) -> PaymentFailed:
    return PaymentFailed(
        workspace_id=1,
        subscription_id=1,
        creator_id=1,
        invoice_id=1,
        reason="card_declined",
        card_last_4=card_last_4,
        attempt=1,
        amount_cents=100,
        currency="USD",
    )
