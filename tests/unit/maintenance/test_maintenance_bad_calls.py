"""A maintenance message with positional arguments is a programming error, not bad luck: fatal
at its first delivery (one dead letter, one alert), never retried for hours like a transient
error. The real maintenance actors, with their real retry options, on the guarded in-process
broker and our full middleware."""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator

import dramatiq
import pytest

from lineblocs_shared.queue.broker import build_broker, declare_actors
from lineblocs_shared.queue.guarded import GuardedStubBroker
from lineblocs_shared.queue.inprocess_worker import start_worker
from lineblocs_shared.reliability.failures.alerts import RecordingAlerter
from lineblocs_shared.reliability.failures.store import InMemoryDeadLetterStore
from lineblocs_shared.settings import Settings
from tests.unit.reliability.test_poison_messages import jobs_database_url

ACTORS = ("purge_logs", "apply_retention", "cleanup_users", "relocate_recordings")
ACTORS += ("relocate_recording",)


@pytest.fixture
def broker() -> Iterator[tuple[GuardedStubBroker, InMemoryDeadLetterStore, RecordingAlerter]]:
    store, alerter = InMemoryDeadLetterStore(), RecordingAlerter()
    settings = Settings(queue_url="memory://", database_url=jobs_database_url())
    built = build_broker(settings, dead_letters=store, alerter=alerter)
    assert isinstance(built, GuardedStubBroker)
    dramatiq.set_broker(built)  # `@dramatiq.actor` binds to the global broker at import
    actors = importlib.import_module("lineblocs_maintenance.actors")
    declare_actors(built, actors.MAINTENANCE_ACTORS)
    yield built, store, alerter
    built.close()


@pytest.mark.parametrize("actor", ACTORS)
def test_positional_arguments_to_a_maintenance_actor_are_fatal_at_once(
    broker: tuple[GuardedStubBroker, InMemoryDeadLetterStore, RecordingAlerter], actor: str
) -> None:
    stub, store, alerter = broker
    assert stub.get_actor(actor).options.get("max_retries", 20) > 0  # it would retry otherwise
    message = dramatiq.Message(
        queue_name="maintenance", actor_name=actor, args=(7,), kwargs={}, options={}
    )
    stub.queues["maintenance"].put(json.dumps(message.asdict()).encode())
    worker = dramatiq.Worker(stub, worker_threads=1, worker_timeout=20)
    start_worker(worker)
    try:
        stub.join("maintenance", fail_fast=False, timeout=20_000)
        worker.join()
    finally:
        worker.stop()

    [letter] = store.find(limit=10)
    assert (letter.reason, letter.exception_class, letter.attempts) == ("fatal", "TypeError", 1)
    assert len(alerter.sent) == 1
