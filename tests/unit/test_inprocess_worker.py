"""An in-process worker stopped right after it started still stops (no thread left looping)."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from dramatiq import Worker
from dramatiq.brokers.stub import StubBroker
from dramatiq.worker import ConsumerThread, WorkerThread

from lineblocs_shared.queue.inprocess_worker import start_worker

BEGIN_DELAY_S = 0.3  # how late each thread enters run(), as on a loaded machine


def _late(run: Callable[[object], None]) -> Callable[[object], None]:
    def late_run(self: object) -> None:
        time.sleep(BEGIN_DELAY_S)
        run(self)

    return late_run


@pytest.fixture
def threads_that_begin_late(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(WorkerThread, "run", _late(WorkerThread.run))
    monkeypatch.setattr(ConsumerThread, "run", _late(ConsumerThread.run))


@pytest.mark.usefixtures("threads_that_begin_late")
def test_stop_right_after_start_leaves_no_thread_running() -> None:
    broker = StubBroker()
    broker.declare_queue("q")
    worker = Worker(broker, worker_threads=2, worker_timeout=50)

    start_worker(worker)
    worker.stop(timeout=2_000)

    alive = [t for t in [*worker.workers, *worker.consumers.values()] if t.is_alive()]
    for thread in alive:
        thread.running = False  # let the leaked thread end before the next test
    assert not alive, f"{len(alive)} thread(s) still looping after stop()"
