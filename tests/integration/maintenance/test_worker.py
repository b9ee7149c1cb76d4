"""Recording relocation as it runs: `lineblocs-jobs worker maintenance` processes on the real
RabbitMQ, MariaDB, the fake ARI over HTTP, moto's S3 server, Sentry to a local capture.

- A worker SIGKILLed between the upload and the commit of `s3_url` (held on a row lock), and one
  killed between that commit and the media server's delete (held inside the fake's DELETE): the
  redelivered message finishes the job — one object version, the row written once, the copy
  deleted — and nothing is lost.
- A 200 MB recording is relocated while the worker's processes stay under 150 MB resident.
- Bad input and missing S3 settings: one dead letter and one alert each, the rest relocated.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text

from lineblocs_shared.contracts import (
    RELOCATE_RECORDING,
    RELOCATE_RECORDINGS,
    Message,
    RelocateRecording,
    RelocateRecordings,
)
from lineblocs_shared.db.uow import LedgerUnit
from lineblocs_shared.models.jobs import DeadLetter
from tests.integration.maintenance.conftest import make_recording, recording, relocation_env
from tests.integration.notifications.conftest import put_settings
from tests.support.ari_fake import AriFake, Script
from tests.support.live_worker import RunningWorker, publish, running_worker
from tests.support.proc_sockets import process_group, rss_kib
from tests.support.s3_server import S3Server
from tests.support.sentry_capture import SentryCapture

pytestmark = pytest.mark.integration
QUEUE = "maintenance"
WAV = b"RIFF" + bytes(range(256)) * 2000


@pytest.fixture
def env(jobs_engine: Engine, ari: AriFake, s3: S3Server) -> dict[str, str]:
    put_settings(jobs_engine, customizations={}, credentials=s3.site_credentials())
    return relocation_env(ari, s3)


def start(
    engine: Engine, amqp: str, sentry: SentryCapture, folder: Path, name: str, env: dict[str, str]
) -> AbstractContextManager[RunningWorker]:
    logs = folder / name
    logs.mkdir()
    return running_worker(QUEUE, engine, amqp, sentry, logs, extra_env=env)


def send(amqp_url: str, message: Message) -> None:
    publish(amqp_url, QUEUE, json.dumps(message.asdict()).encode())


def relocate(amqp_url: str, recording_id: int) -> None:
    send(amqp_url, RELOCATE_RECORDING.message(RelocateRecording(recording_id=recording_id)))


def letters(engine: Engine) -> list[DeadLetter]:
    with LedgerUnit(engine) as uow:
        return list(uow.session.execute(select(DeadLetter)).scalars())


Workers = Callable[[str, dict[str, str]], AbstractContextManager[RunningWorker]]


@pytest.fixture
def workers(
    jobs_engine: Engine, fresh_amqp_url: str, sentry: SentryCapture, tmp_path: Path
) -> Workers:
    """Starts a named worker with the relocation settings; one at a time, each with its logs."""
    return lambda name, env: start(jobs_engine, fresh_amqp_url, sentry, tmp_path, name, env)


def test_a_worker_killed_between_upload_and_commit_leaves_one_object_and_loses_nothing(
    jobs_engine: Engine,
    fresh_amqp_url: str,
    ari: AriFake,
    s3: S3Server,
    env: dict[str, str],
    workers: Workers,
) -> None:
    rid = make_recording(jobs_engine, storage_id="held-at-commit")
    ari.add("held-at-commit", WAV)
    locked, holder = threading.Event(), jobs_engine.connect()
    transaction = holder.begin()

    def hold_the_recording_row() -> None:
        # The attempt is counted already; writing s3_url will wait behind this lock.
        holder.execute(text("SELECT id FROM recordings WHERE id = :id FOR UPDATE"), {"id": rid})
        ari.scripts.pop("held-at-commit")
        locked.set()

    ari.scripts["held-at-commit"] = Script(on_download=hold_the_recording_row)
    key = f"recordings/{rid}.wav"
    with workers("first", env) as worker:
        relocate(fresh_amqp_url, rid)
        assert locked.wait(60), worker.output()[-2000:]
        worker.wait_until("the object uploaded", lambda: s3.versions(key) == 1)
        time.sleep(1.0)  # verified; the worker now waits on the row lock
        worker.kill()
    transaction.rollback()
    holder.close()
    assert recording(jobs_engine, rid).s3_url == ""
    assert "held-at-commit" in ari.files

    with workers("second", env) as worker:
        worker.wait_until("the copy deleted", lambda: "held-at-commit" not in ari.files)
    row = recording(jobs_engine, rid)
    assert row.s3_url.endswith(key)
    assert row.relocation_attempts == 2
    assert s3.versions(key) == 1  # found by the redelivery, not uploaded again
    assert ari.calls("GET", "held-at-commit") == [200]


def test_a_worker_killed_between_commit_and_delete_only_deletes_on_redelivery(
    jobs_engine: Engine,
    fresh_amqp_url: str,
    ari: AriFake,
    s3: S3Server,
    env: dict[str, str],
    workers: Workers,
) -> None:
    rid = make_recording(jobs_engine, storage_id="held-at-delete")
    ari.add("held-at-delete", WAV)
    deleting, released = threading.Event(), threading.Event()

    def hold_the_delete() -> None:
        ari.scripts.pop("held-at-delete")
        deleting.set()
        released.wait(60)
        raise ConnectionResetError("the worker is gone")  # the fake answers 500, keeps the file

    ari.scripts["held-at-delete"] = Script(on_delete=hold_the_delete)
    with workers("first", env) as worker:
        relocate(fresh_amqp_url, rid)
        assert deleting.wait(60), worker.output()[-2000:]
        assert recording(jobs_engine, rid).s3_url != ""  # committed before the delete
        worker.kill()
    released.set()

    with workers("second", env) as worker:
        worker.wait_until("the copy deleted", lambda: "held-at-delete" not in ari.files)
    assert s3.versions(f"recordings/{rid}.wav") == 1
    assert ari.calls("GET", "held-at-delete") == [200]
    assert recording(jobs_engine, rid).relocation_attempts == 1


def test_a_200_mb_recording_is_streamed_through_a_worker_under_150_mb(
    jobs_engine: Engine,
    fresh_amqp_url: str,
    ari: AriFake,
    s3: S3Server,
    env: dict[str, str],
    workers: Workers,
) -> None:
    size = 200 * 1024 * 1024
    rid = make_recording(jobs_engine, storage_id="long-call")
    stored = ari.add("long-call", size=size)
    peak: dict[int, int] = {}
    with workers("big", env) as worker:
        relocate(fresh_amqp_url, rid)

        def done() -> bool:
            for pid in process_group(worker.process.pid):
                peak[pid] = max(peak.get(pid, 0), rss_kib(pid) or 0)
            return "long-call" not in ari.files

        worker.wait_until("the recording relocated", done)
    head = s3.client.head_object(Bucket="lineblocs-recordings", Key=f"recordings/{rid}.wav")
    assert head["ContentLength"] == size
    assert head["Metadata"]["sha256"] == stored.sha256()
    assert max(peak.values()) < 150 * 1024, peak


def test_bad_input_and_missing_s3_settings_are_one_dead_letter_and_one_alert_each(
    jobs_engine: Engine,
    fresh_amqp_url: str,
    ari: AriFake,
    s3: S3Server,
    env: dict[str, str],
    sentry: SentryCapture,
    workers: Workers,
) -> None:
    good = make_recording(jobs_engine, storage_id="good")
    ari.add("good", WAV)
    bad = [
        make_recording(jobs_engine, storage_id=""),
        make_recording(jobs_engine, storage_server_ip="10.66.6.6"),
        make_recording(jobs_engine, storage_id="lost"),
    ]
    put_settings(jobs_engine, customizations={}, credentials={"s3_bucket": ""})
    with workers("only", env) as worker:
        send(fresh_amqp_url, RELOCATE_RECORDINGS.message(RelocateRecordings()))
        worker.wait_until("the sweep dead-lettered", lambda: len(letters(jobs_engine)) == 1)
        assert all(recording(jobs_engine, i).relocation_attempts == 0 for i in [good, *bad])
        put_settings(jobs_engine, customizations={}, credentials=s3.site_credentials())
        send(fresh_amqp_url, RELOCATE_RECORDINGS.message(RelocateRecordings()))
        worker.wait_until("the good one relocated", lambda: "good" not in ari.files)
        worker.wait_until("three more dead letters", lambda: len(letters(jobs_engine)) == 4)
        sentry.wait_for_events(4, timeout_s=30)
        time.sleep(2)  # a second alert, if any, would be here by now
    assert len(sentry.events) == 4
    texts = sorted(letter.exception_text or "" for letter in letters(jobs_engine))
    assert any("s3_bucket" in t for t in texts)
    assert any("does not name a stored recording" in t for t in texts)
    assert any("10.66.6.6" in t and "ARI_HOSTS" in t for t in texts)
    assert any("has no stored recording 'lost'" in t for t in texts)
    for recording_id in bad:
        assert recording(jobs_engine, recording_id).s3_url == ""
    assert recording(jobs_engine, good).s3_url != ""
