"""Start a Dramatiq worker inside this process (the demo, tests) so that it can be stopped.

Dramatiq's worker and consumer threads set `running = True` as the first step of `run()`, and
`stop()` sets it to False. `Thread.start()` returns before `run()` begins, so a `stop()` that
lands in between is overwritten: that thread then loops forever and `Worker.stop()` waits on
it for ten minutes. A loaded machine (or sentry-sdk's thread wrapper, which runs first) widens
that window enough to hang CI; waiting for every thread to be running closes it.
"""

from __future__ import annotations

import time

import dramatiq


class WorkerBootTimeout(RuntimeError):
    """The worker's threads did not all start running in time."""


def start_worker(worker: dramatiq.Worker, *, timeout_s: float = 10.0) -> None:
    """Start `worker` and return once each of its threads is inside its run loop."""
    worker.start()
    deadline = time.monotonic() + timeout_s
    while not _all_running(worker):
        if time.monotonic() > deadline:
            worker.stop(timeout=1_000)
            raise WorkerBootTimeout(f"worker threads not running after {timeout_s:.0f} s")
        time.sleep(0.001)


def _all_running(worker: dramatiq.Worker) -> bool:
    workers_running = all(thread.running for thread in worker.workers)
    return workers_running and all(thread.running for thread in worker.consumers.values())
