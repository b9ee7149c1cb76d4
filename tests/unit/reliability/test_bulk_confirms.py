"""The confirm bookkeeping maps RabbitMQ's delivery tags back to our messages."""

from __future__ import annotations

from typing import Any

import dramatiq
import pytest

from lineblocs_shared.queue.bulk_confirms import ConfirmWindow, Pending


def _pending(n: int) -> Pending:
    message: dramatiq.Message[Any] = dramatiq.Message(
        queue_name="q", actor_name="a", args=(n,), kwargs={}, options={}
    )
    return Pending(message=message, body=message.encode())


def _args(settled: list[Pending]) -> list[int]:
    return [p.message.args[0] for p in settled]


def test_tags_count_from_one_in_publish_order_and_each_publish_is_an_attempt() -> None:
    window = ConfirmWindow(10)
    first, second = _pending(1), _pending(2)
    assert [window.sent(first, now=0.0), window.sent(second, now=0.0)] == [1, 2]
    assert window.sent(first, now=1.0) == 3  # sent again after a failure: a new tag
    assert (first.attempts, second.attempts) == (2, 1)


def test_a_multiple_ack_settles_every_tag_up_to_it_and_no_further() -> None:
    window = ConfirmWindow(10)
    for n in range(1, 6):
        window.sent(_pending(n), now=0.0)
    assert _args(window.settle(3, multiple=True)) == [1, 2, 3]
    assert len(window) == 2
    assert _args(window.settle(5, multiple=True)) == [4, 5]
    assert len(window) == 0


def test_a_single_confirm_settles_its_own_tag_even_out_of_order() -> None:
    window = ConfirmWindow(10)
    for n in range(1, 4):
        window.sent(_pending(n), now=0.0)
    assert _args(window.settle(2, multiple=False)) == [2]
    assert _args(window.settle(2, multiple=False)) == []  # answered already
    assert _args(window.settle(3, multiple=True)) == [1, 3]


def test_the_window_has_room_until_size_messages_are_unconfirmed() -> None:
    window = ConfirmWindow(2)
    window.sent(_pending(1), now=0.0)
    assert window.has_room
    window.sent(_pending(2), now=0.0)
    assert not window.has_room
    window.settle(1, multiple=False)
    assert window.has_room


def test_the_oldest_unconfirmed_message_sets_the_wait_that_times_out() -> None:
    window = ConfirmWindow(10)
    assert window.oldest_wait(now=100.0) == 0.0
    window.sent(_pending(1), now=10.0)
    window.sent(_pending(2), now=12.0)
    assert window.oldest_wait(now=15.0) == pytest.approx(5.0)
    window.settle(1, multiple=False)
    assert window.oldest_wait(now=15.0) == pytest.approx(3.0)


def test_abandoning_hands_back_everything_unconfirmed_oldest_first() -> None:
    window = ConfirmWindow(10)
    for n in range(1, 4):
        window.sent(_pending(n), now=0.0)
    window.settle(2, multiple=False)
    assert _args(window.abandon()) == [1, 3]
    assert len(window) == 0
    assert window.has_room


def test_a_window_holds_at_least_one_message() -> None:
    with pytest.raises(ValueError, match="at least one"):
        ConfirmWindow(0)
