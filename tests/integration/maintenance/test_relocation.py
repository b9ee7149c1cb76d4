"""Relocating recordings through the handlers, on MariaDB, the fake ARI over HTTP and moto's S3
server over HTTP: what lands in S3, in `recordings`, in our table, and on the media server."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import Engine

from lineblocs_maintenance import handlers
from lineblocs_maintenance.bootstrap import Maintenance
from lineblocs_maintenance.relocation import records
from lineblocs_maintenance.relocation.errors import (
    BadRecording,
    RecordingMissing,
    RelocationAbandoned,
    StorageRefused,
    UnknownMediaServer,
)
from lineblocs_shared.errors import ConfigError
from lineblocs_shared.queue.bulk import RecordingMessagePublisher
from lineblocs_shared.reliability.failures.taxonomy import ErrorKind, classify
from tests.integration.maintenance.conftest import make_recording, recording, relocation_row
from tests.integration.notifications.conftest import put_settings
from tests.support.ari_fake import AriFake, Script
from tests.support.s3_server import BUCKET, S3Server

pytestmark = pytest.mark.integration
WAV = b"RIFF" + bytes(range(256)) * 4000


def test_a_recording_is_uploaded_verified_recorded_then_deleted_from_the_media_server(
    deps: Maintenance, jobs_engine: Engine, ari: AriFake, s3: S3Server
) -> None:
    rid = make_recording(jobs_engine, storage_id="call 7/rec?1")  # quoted in the URL
    ari.add("call 7/rec?1", WAV)

    assert handlers.relocate_recording(deps, recording_id=rid) == "relocated"

    key = f"recordings/{rid}.wav"
    head = s3.client.head_object(Bucket=BUCKET, Key=key)
    sha256 = hashlib.sha256(WAV).hexdigest()
    assert head["ContentType"] == "audio/wav"
    assert head["Metadata"] == {"sha256": sha256}
    assert head["ContentLength"] == len(WAV)
    row = recording(jobs_engine, rid)
    assert row.s3_url == f"{s3.endpoint_url}/{BUCKET}/{key}"
    assert (row.status, row.relocation_attempts, row.size) == ("FINALIZED", 1, 0)
    assert "call 7/rec?1" not in ari.files
    assert ari.calls("DELETE", "call 7/rec?1") == [204]
    ours = relocation_row(jobs_engine, rid)
    assert ours is not None
    assert (ours.state, ours.object_key, ours.sha256, ours.size_bytes) == (
        "relocated", key, sha256, len(WAV)
    )  # fmt: skip


def test_a_recording_the_media_server_lost_is_marked_missing_and_never_queued_again(
    deps: Maintenance, jobs_engine: Engine, ari: AriFake, s3: S3Server
) -> None:
    lost, kept = make_recording(jobs_engine), make_recording(jobs_engine, storage_id="kept")
    ari.add("kept", WAV)

    with pytest.raises(RecordingMissing) as raised:
        handlers.relocate_recording(deps, recording_id=lost)
    assert classify(raised.value) is ErrorKind.FATAL  # dead letter and alert, no retry loop
    assert handlers.relocate_recording(deps, recording_id=kept) == "relocated"

    ours = relocation_row(jobs_engine, lost)
    assert ours is not None
    assert ours.state == "missing"
    assert recording(jobs_engine, lost).s3_url == ""
    assert handlers.relocate_recording(deps, recording_id=lost) == "skipped"  # a redelivery
    assert handlers.relocations_due(deps).found == 0


def test_a_media_server_failing_for_a_while_is_retried_and_the_recording_moved_once(
    deps: Maintenance, jobs_engine: Engine, ari: AriFake, s3: S3Server
) -> None:
    rid = make_recording(jobs_engine, storage_id="flaky")
    ari.add("flaky", WAV)
    ari.scripts["flaky"] = Script(fail_first=1)

    with pytest.raises(httpx.HTTPStatusError) as raised:
        handlers.relocate_recording(deps, recording_id=rid)
    assert classify(raised.value) is ErrorKind.TRANSIENT
    assert recording(jobs_engine, rid).s3_url == ""
    assert handlers.relocate_recording(deps, recording_id=rid) == "relocated"  # the retry

    assert s3.versions(f"recordings/{rid}.wav") == 1
    assert recording(jobs_engine, rid).relocation_attempts == 2
    assert ari.calls("GET", "flaky") == [500, 200]


def test_after_the_last_attempt_a_failing_recording_is_given_up_once(
    deps: Maintenance, jobs_engine: Engine, ari: AriFake
) -> None:
    rid = make_recording(jobs_engine, storage_id="down")
    ari.add("down", WAV)
    ari.scripts["down"] = Script(fail_first=99)

    for _attempt in range(2):
        with pytest.raises(httpx.HTTPStatusError) as raised:
            handlers.relocate_recording(deps, recording_id=rid)
        assert classify(raised.value) is ErrorKind.TRANSIENT
    with pytest.raises(RelocationAbandoned):  # the third of RECORDING_RELOCATION_MAX_ATTEMPTS
        handlers.relocate_recording(deps, recording_id=rid)

    assert recording(jobs_engine, rid).relocation_attempts == 3
    ours = relocation_row(jobs_engine, rid)
    assert ours is not None
    assert ours.state == "failed"
    assert handlers.relocate_recording(deps, recording_id=rid) == "skipped"
    assert len(ari.calls("GET", "down")) == 3


def test_a_redelivery_finds_the_object_and_does_not_upload_it_again(
    deps: Maintenance, jobs_engine: Engine, ari: AriFake, s3: S3Server
) -> None:
    rid = make_recording(jobs_engine, storage_id="twice")
    ari.add("twice", WAV)
    ari.scripts["twice"] = Script(fail_deletes=1)
    # The first delivery's delete fails (500): the object and the row are written already.
    with pytest.raises(httpx.HTTPStatusError):
        handlers.relocate_recording(deps, recording_id=rid)
    assert recording(jobs_engine, rid).s3_url != ""
    ari.scripts.clear()

    assert handlers.relocate_recording(deps, recording_id=rid) == "cleaned"
    assert s3.versions(f"recordings/{rid}.wav") == 1
    assert ari.calls("GET", "twice") == [200]
    assert "twice" not in ari.files


def test_an_object_uploaded_before_a_crash_is_found_not_uploaded_twice(
    deps: Maintenance,
    jobs_engine: Engine,
    ari: AriFake,
    s3: S3Server,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rid = make_recording(jobs_engine, storage_id="crash")
    ari.add("crash", WAV)

    def crash(*_args: object) -> None:
        raise ConnectionError("the database went away before the commit")

    with monkeypatch.context() as patched:
        patched.setattr(records, "write_url", crash)
        with pytest.raises(ConnectionError):
            handlers.relocate_recording(deps, recording_id=rid)
    assert s3.versions(f"recordings/{rid}.wav") == 1

    assert handlers.relocate_recording(deps, recording_id=rid) == "relocated"
    assert s3.versions(f"recordings/{rid}.wav") == 1
    assert ari.calls("GET", "crash") == [200]


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"storage_id": ""}, BadRecording),
        ({"storage_id": "../../etc/passwd"}, BadRecording),
        ({"storage_id": "bad\x00name"}, BadRecording),
        ({"storage_server_ip": "10.9.9.9"}, UnknownMediaServer),
        ({"storage_server_ip": "evil.example/x?"}, UnknownMediaServer),
    ],
)
def test_bad_input_is_a_clear_fatal_error_and_the_recording_is_untouched(
    deps: Maintenance, jobs_engine: Engine, ari: AriFake, overrides: dict[str, str], error: type
) -> None:
    rid = make_recording(jobs_engine, **overrides)
    with pytest.raises(error) as raised:
        handlers.relocate_recording(deps, recording_id=rid)
    assert classify(raised.value) is ErrorKind.FATAL
    row = recording(jobs_engine, rid)
    assert (row.s3_url, row.relocation_attempts, row.status) == ("", 0, "FINALIZED")
    ours = relocation_row(jobs_engine, rid)
    assert ours is not None
    assert ours.state == "failed"
    assert ours.last_error
    assert ari.requests == []


def test_missing_or_refused_s3_settings_fail_the_sweep_before_anything_is_queued(
    deps: Maintenance, jobs_engine: Engine, s3: S3Server
) -> None:
    make_recording(jobs_engine)
    publisher = RecordingMessagePublisher()
    put_settings(jobs_engine, customizations={}, credentials={"s3_bucket": ""})
    with pytest.raises(ConfigError, match="s3_bucket"):
        handlers.relocate_recordings(deps, publisher)
    put_settings(jobs_engine, customizations={}, credentials={"s3_bucket": "no-such-bucket"})
    with pytest.raises(StorageRefused, match=r"NoSuchBucket|404"):
        handlers.relocate_recordings(deps, publisher)
    assert publisher.published == []


def test_the_sweep_queues_each_due_recording_once_while_it_is_in_flight(
    deps: Maintenance, jobs_engine: Engine
) -> None:
    due = [make_recording(jobs_engine) for _ in range(3)]
    make_recording(jobs_engine, status="RECORDING")
    make_recording(jobs_engine, s3_url="https://elsewhere/x.wav")
    # The old Go job counted attempts without limit: such a recording is still tried.
    due.append(make_recording(jobs_engine, relocation_attempts=3_000))
    publisher = RecordingMessagePublisher()

    first = handlers.relocate_recordings(deps, publisher)
    second = handlers.relocate_recordings(deps, publisher)

    assert first is not None
    assert (first.found, first.enqueued) == (4, 4)
    assert second is not None
    assert second.found == 0
    sent = [m.kwargs["recording_id"] for m in publisher.published]
    assert sorted(sent) == due


def test_marking_queued_never_overwrites_what_a_fast_relocation_wrote(jobs_engine: Engine) -> None:
    """The sweep marks after the broker confirmed: a worker may have finished first."""
    now = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)
    finished_first, stale, new = (make_recording(jobs_engine) for _ in range(3))
    records.mark(jobs_engine, finished_first, "missing", now, "ARI 404")
    records.mark(jobs_engine, stale, "relocating", now - timedelta(hours=3))

    records.mark_queued(jobs_engine, [finished_first, stale, new], now)

    states = {rid: relocation_row(jobs_engine, rid) for rid in (finished_first, stale, new)}
    assert {rid: row.state if row else None for rid, row in states.items()} == {
        finished_first: "missing",
        stale: "queued",
        new: "queued",
    }
