"""Bookkeeping of publisher confirms on one channel, free of any I/O.

RabbitMQ numbers the messages published on a confirm-mode channel 1, 2, 3… and answers each
with Basic.Ack or Basic.Nack carrying that delivery tag, or with `multiple=True` meaning "every
tag up to and including this one". `ConfirmWindow` maps tags back to our messages and bounds how
many may be unconfirmed at once.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import dramatiq


@dataclass(eq=False)
class Pending:
    """One message on its way to RabbitMQ, across however many publish attempts it takes."""

    message: dramatiq.Message[Any]
    body: bytes
    attempts: int = 0
    sent_at: float = 0.0


class ConfirmWindow:
    """The unconfirmed messages of one channel, oldest first, at most `size` of them."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("a confirm window holds at least one message")
        self._size = size
        # Ordered by tag: an OrderedDict pops its oldest entry and any given tag in O(1).
        self._unconfirmed: OrderedDict[int, Pending] = OrderedDict()
        self._last_tag = 0

    def __len__(self) -> int:
        return len(self._unconfirmed)

    @property
    def has_room(self) -> bool:
        return len(self._unconfirmed) < self._size

    def sent(self, pending: Pending, *, now: float) -> int:
        """Record that `pending` was just published; returns the delivery tag RabbitMQ gives it."""
        self._last_tag += 1
        pending.attempts += 1
        pending.sent_at = now
        self._unconfirmed[self._last_tag] = pending
        return self._last_tag

    def settle(self, delivery_tag: int, *, multiple: bool) -> list[Pending]:
        """Take out the messages a Basic.Ack/Nack answers. Unknown tags answer nothing."""
        if not multiple:
            pending = self._unconfirmed.pop(delivery_tag, None)
            return [] if pending is None else [pending]
        settled: list[Pending] = []
        while self._unconfirmed:
            oldest_tag = next(iter(self._unconfirmed))
            if oldest_tag > delivery_tag:
                break
            settled.append(self._unconfirmed.popitem(last=False)[1])
        return settled

    def oldest_wait(self, *, now: float) -> float:
        """Seconds the oldest unconfirmed message has waited for its confirm (0 when none)."""
        if not self._unconfirmed:
            return 0.0
        return now - next(iter(self._unconfirmed.values())).sent_at

    def abandon(self) -> list[Pending]:
        """Everything still unconfirmed, oldest first, when the channel is gone."""
        abandoned = list(self._unconfirmed.values())
        self._unconfirmed.clear()
        return abandoned
