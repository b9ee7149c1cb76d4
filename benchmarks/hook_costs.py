"""Where a middleware stack's time goes: each middleware's message hooks, called directly.

No broker I/O and no threads: for every middleware, the hooks a successful message passes
through (before/after process_message, before/after ack) are called for a batch of messages on
an in-process broker, and the time per message is reported. Cheap and steady, it explains the
noisier end-to-end difference of `middleware_throughput`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import dramatiq
from dramatiq.broker import MessageProxy
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import Middleware

MESSAGES = 20_000


def _noop(n: int) -> None:
    """Never runs: only its messages are needed."""


def hook_costs(stack: Callable[[], list[Middleware]]) -> list[tuple[str, float]]:
    """(middleware class, µs per message) for each middleware of the stack, in order."""
    broker = StubBroker(middleware=stack())
    broker.emit_after("process_boot")
    actor = dramatiq.actor(broker=broker, queue_name="bench-hooks", actor_name="bench_noop")(_noop)
    messages = [MessageProxy(actor.message(n)) for n in range(MESSAGES)]
    costs = []
    for middleware in broker.middleware:
        started = time.perf_counter()
        for message in messages:
            middleware.before_process_message(broker, message)
            middleware.after_process_message(broker, message, result=None)
            middleware.before_ack(broker, message)
            middleware.after_ack(broker, message)
        elapsed = time.perf_counter() - started
        costs.append((type(middleware).__name__, elapsed / MESSAGES * 1e6))
    broker.close()
    return costs
