"""Read-ahead: produce the next batches in a thread while the caller consumes this one.

The distributor plans pages (MariaDB round trips, Python) while the publisher publishes them
(RabbitMQ round trips, Python); overlapping the two measured +15 to 25% on 100,000 subscriptions.
At most `depth` batches wait in the queue, so memory stays bounded by a few pages.

An error of the producer is *held*, not raised into the consumer: the bulk publisher pulls its
messages inside pika's I/O loop, which takes an exception raised there for a lost connection
and then sees a finished stream — a silent truncation. So the stream simply ends, and the
caller checks `error` once the consumer is done.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")

_END = object()
# How often a producer blocked on a full queue checks whether the consumer went away.
_POLL_S = 0.1


class ReadAhead(Generic[T]):
    """Iterate the items of `batches`, produced by a thread of its own, `depth` batches ahead."""

    def __init__(self, batches: Iterable[Sequence[T]], *, depth: int = 2) -> None:
        if depth < 1:
            raise ValueError("depth must be >= 1")
        self.error: BaseException | None = None
        self._batches = batches
        self._queue: queue.Queue[object] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._produce, name="read-ahead", daemon=True)
        self._thread.start()

    def __iter__(self) -> Iterator[T]:
        while True:
            item = self._queue.get()
            if item is _END:
                return
            yield from item  # type: ignore[misc]  # everything else in the queue is a batch

    def close(self) -> None:
        """Stop the producer (the consumer may have stopped early) and wait for it."""
        self._stop.set()
        self._thread.join()

    def _produce(self) -> None:
        try:
            for batch in self._batches:
                if not self._put(batch):
                    return
        except BaseException as exc:  # held for the caller: see the module docstring
            self.error = exc
        self._put(_END)

    def _put(self, item: object) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=_POLL_S)
            except queue.Full:
                continue
            return True
        return False
