"""A worker thread outlives any exception that escapes a message's processing.

Dramatiq's worker thread catches what an actor raises, but not what escapes its own error
handling: an asynchronous `TimeLimitExceeded` or `Shutdown` that lands after the actor returned,
while the middleware's after-hooks run, leaves `process_message` after its `finally` has acked or
nacked the message — and ends the thread's run loop. The worker then has one thread fewer until
the process restarts, and `/livez` reports it dead. This middleware wraps each worker thread's
`process_message` once, at boot, so such an exception is logged and the thread takes the next
message.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

import dramatiq
from dramatiq.middleware import Middleware

logger = logging.getLogger(__name__)


class ThreadGuard(Middleware):
    def after_worker_thread_boot(self, broker: dramatiq.Broker, thread: Any) -> None:
        process = thread.process_message

        @functools.wraps(process)
        def guarded(message: Any) -> None:
            try:
                process(message)
            except BaseException as exc:  # the thread must go on: see the module docstring
                logger.critical(
                    "%s escaped the processing of message %s; the worker thread goes on",
                    type(exc).__name__,
                    getattr(message, "message_id", "?"),
                )

        thread.process_message = guarded
