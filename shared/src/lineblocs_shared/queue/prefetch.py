"""A low prefetch for every worker, however it is started.

Dramatiq's RabbitMQ consumer prefetches `worker_threads * 2` messages per process unless
`dramatiq_queue_prefetch` is in its environment. A billing message can wait minutes for a slow
gateway, a notification for a slow mail server: a message prefetched behind it waits too,
unacked, while an idle process could have run it, and a killed process sends its whole prefetch
back to the queue. This middleware (in every broker, `broker.py`) applies WORKER_PREFETCH
(0: one message per thread) on the worker itself, before its consumers start, so
`lineblocs-jobs worker` and a bare `dramatiq lineblocs_<service>.worker …` hold the same few.
"""

from __future__ import annotations

from typing import Any

import dramatiq
from dramatiq.middleware import Middleware


class QueuePrefetch(Middleware):
    def __init__(self, prefetch: int = 0) -> None:
        self.prefetch = prefetch  # 0: one message per worker thread

    def before_worker_boot(self, broker: dramatiq.Broker, worker: Any) -> None:
        # Worker.start creates its consumers after this hook, with `worker.queue_prefetch`.
        worker.queue_prefetch = self.prefetch or worker.worker_threads
