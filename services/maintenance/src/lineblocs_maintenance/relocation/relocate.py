"""Relocating one recording, in an order that loses nothing and writes nothing twice:

1. the row: gone, not FINALIZED, or marked missing/failed → nothing to do; `s3_url` already
   written → only the media server's copy is left to delete (step 6);
2. count the attempt (ours, and the site's `relocation_attempts`); past
   RECORDING_RELOCATION_MAX_ATTEMPTS → failed;
3. the object planned by an earlier attempt (our row's key and SHA-256) is looked up first: if
   the store has it with that checksum, it is not downloaded nor uploaded again;
4. else download from ARI into a spooled temporary file (SHA-256 and size on the way), plan the
   object (key, checksum, size committed), upload it;
5. verify it (HEAD: size and checksum), then write `recordings.s3_url` in one transaction;
6. delete the media server's copy (404: already gone), and mark the recording relocated.

The media server's copy is deleted only once a verified object is recorded, so a crash at any
point leaves either the copy, or the object and its row, or both — and the next delivery
resumes from what it finds.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass

from sqlalchemy import Engine

from lineblocs_maintenance import metrics
from lineblocs_maintenance.relocation import records
from lineblocs_maintenance.relocation.ari import Ari, Download, check_host, recording_name
from lineblocs_maintenance.relocation.errors import (
    AriNotFound,
    RecordingMissing,
    RecordingUnusable,
    RelocationAbandoned,
    StorageUnavailable,
)
from lineblocs_maintenance.relocation.records import RecordingRow
from lineblocs_maintenance.relocation.storage import RecordingStore, StoredObject, object_key
from lineblocs_shared.clock import Clock
from lineblocs_shared.models.recordings import FINAL_RELOCATION_STATES, RelocationState
from lineblocs_shared.reliability.failures.taxonomy import ErrorKind, classify

log = logging.getLogger(__name__)
FINALIZED = "FINALIZED"


@dataclass(frozen=True)
class Relocation:
    """What one relocation works with."""

    engine: Engine
    clock: Clock
    ari: Ari
    store: RecordingStore
    allowed_hosts: frozenset[str]
    max_attempts: int
    spool_bytes: int


def relocate_recording(job: Relocation, recording_id: int) -> str:
    """Relocate one recording; what happened: relocated, cleaned (only the delete was left),
    or skipped (nothing to do)."""
    row = records.load(job.engine, recording_id)
    if row is None or row.status != FINALIZED or row.state in FINAL_RELOCATION_STATES:
        return "skipped"
    try:
        name = recording_name(row.storage_id)
        host = check_host(row.storage_server_ip, job.allowed_hosts)
        if row.s3_url:
            return _finish(job, row, host, name, "cleaned")
        return _relocate(job, row, host, name)
    except RecordingUnusable as exc:
        error = f"{type(exc).__name__}: {exc}"
        records.mark(job.engine, recording_id, exc.state, job.clock.now(), error)
        metrics.count_failed(exc.state)
        log.warning("recording %s not relocated (%s): %s", recording_id, exc.state, error)
        raise


def _relocate(job: Relocation, row: RecordingRow, host: str, name: str) -> str:
    if (row.attempts or 0) >= job.max_attempts:
        raise RelocationAbandoned(f"recording {row.id}: {row.attempts} attempts failed already")
    attempts = records.start_attempt(job.engine, row.id, job.clock.now())
    try:
        stored = _stored_object(job, row, host, name)
    except AriNotFound as exc:
        again = records.load(job.engine, row.id)
        if again is not None and again.s3_url:
            return "skipped"  # a concurrent delivery relocated it and deleted the copy
        raise RecordingMissing(f"recording {row.id}: {exc}") from None
    except Exception as exc:
        out_of_attempts = attempts >= job.max_attempts
        if out_of_attempts and classify(exc) is ErrorKind.TRANSIENT:
            raise RelocationAbandoned(
                f"recording {row.id}: attempt {attempts} of {job.max_attempts} failed: {exc}"
            ) from exc
        raise
    records.write_url(job.engine, row.id, job.store.url_of(stored.key), job.clock.now())
    return _finish(job, row, host, name, "relocated")


def _stored_object(job: Relocation, row: RecordingRow, host: str, name: str) -> StoredObject:
    """The verified object of the recording: found from an earlier attempt, or written now."""
    if row.object_key and row.sha256:
        found = job.store.find(row.object_key)
        if found is not None and found.sha256 == row.sha256:
            log.info("recording %s: %s already stored, not uploaded again", row.id, found.key)
            return found
    with tempfile.SpooledTemporaryFile(max_size=job.spool_bytes) as spool:
        download = job.ari.download(host, name, spool)  # type: ignore[arg-type]
        key = object_key(row.id, download.content_type)
        records.plan_object(
            job.engine,
            row.id,
            job.clock.now(),
            object_key=key,
            sha256=download.sha256,
            size_bytes=download.size,
        )
        spool.seek(0)
        job.store.put(key, spool, download)  # type: ignore[arg-type]
    metrics.count_bytes(download.size)
    return _verified(job.store, key, download)


def _verified(store: RecordingStore, key: str, download: Download) -> StoredObject:
    found = store.find(key)
    if found is None or (found.size, found.sha256) != (download.size, download.sha256):
        raise StorageUnavailable(f"{key} does not read back as written: {found}")
    return found


def _finish(job: Relocation, row: RecordingRow, host: str, name: str, outcome: str) -> str:
    """The object is recorded: the media server's copy may go (404: it already has)."""
    job.ari.delete(host, name)
    records.mark(job.engine, row.id, RelocationState.RELOCATED.value, job.clock.now())
    metrics.count_relocated(outcome)
    return outcome
