"""Read-ahead: items in order, a bounded lead, producer errors held for the caller."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from lineblocs_shared.queue.read_ahead import ReadAhead


def test_items_come_out_in_order_across_batches() -> None:
    batches = [[1, 2], [], [3], [4, 5, 6]]

    ahead = ReadAhead(iter(batches), depth=1)

    assert list(ahead) == [1, 2, 3, 4, 5, 6]
    ahead.close()
    assert ahead.error is None


def test_the_producer_runs_at_most_depth_batches_ahead() -> None:
    produced: list[int] = []

    def batches() -> Iterator[list[int]]:
        for n in range(100):
            produced.append(n)
            yield [n]

    ahead = ReadAhead(batches(), depth=2)
    first = next(iter(ahead))
    time.sleep(0.3)  # plenty of time to run ahead, if it could

    assert first == 0
    # One taken, two queued, one made and waiting for room: never the hundred.
    assert len(produced) <= 4
    ahead.close()


def test_a_producer_error_ends_the_stream_and_is_held_for_the_caller() -> None:
    def batches() -> Iterator[list[str]]:
        yield ["a", "b"]
        raise ConnectionError("database went away")

    ahead = ReadAhead(batches(), depth=2)

    assert list(ahead) == ["a", "b"]  # no exception inside the consumer
    ahead.close()
    assert isinstance(ahead.error, ConnectionError)


def test_close_stops_a_producer_waiting_for_room() -> None:
    def endless() -> Iterator[list[int]]:
        n = 0
        while True:
            n += 1
            yield [n]

    ahead = ReadAhead(endless(), depth=1)
    next(iter(ahead))

    closer = threading.Thread(target=ahead.close)
    closer.start()
    closer.join(timeout=5)

    assert not closer.is_alive()


def test_depth_must_be_positive() -> None:
    with pytest.raises(ValueError, match="depth"):
        ReadAhead(iter([]), depth=0)
