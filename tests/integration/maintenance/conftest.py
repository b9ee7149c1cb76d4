"""Fixtures of the maintenance tests. Housekeeping: both Lineblocs schema variants with our
tables, and the service's dependencies on them at a fixed instant. Relocation: recordings in a
Lineblocs database, the fake ARI over HTTP, moto's S3 server, and the site's S3 settings in its
KV store."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from sqlmodel import col

from lineblocs_maintenance import bootstrap
from lineblocs_maintenance.bootstrap import Maintenance
from lineblocs_maintenance.settings import MaintenanceSettings
from lineblocs_shared.clock import FixedClock
from lineblocs_shared.db import migrate
from lineblocs_shared.db.uow import LedgerUnit, UnitOfWork
from lineblocs_shared.models.recordings import RecordingRelocation
from lineblocs_shared.models.usage import Recording
from lineblocs_shared.settings import load_settings
from tests.factories import make_user, make_workspace, whole_seconds
from tests.integration.notifications.conftest import put_settings
from tests.support import ari_fake
from tests.support.ari_fake import AriFake
from tests.support.s3_server import S3Server, s3_server

MEDIA_SERVER = "127.0.0.1"


@pytest.fixture
def ari() -> Iterator[AriFake]:
    fake = AriFake().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def s3_session() -> Iterator[S3Server]:
    with s3_server() as server:
        yield server


@pytest.fixture
def s3(s3_session: S3Server) -> S3Server:
    """The session's moto server, emptied for this test (its objects and their versions)."""
    client, bucket = s3_session.client, "lineblocs-recordings"
    listed = client.list_object_versions(Bucket=bucket)
    for version in listed.get("Versions", []):
        client.delete_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])
    return s3_session


def relocation_env(ari: AriFake, s3: S3Server) -> dict[str, str]:
    return ari_fake.relocation_env(ari, s3.endpoint_url, MEDIA_SERVER) | {
        "ARI_TIMEOUT_S": "5",
        "RECORDING_RELOCATION_MAX_ATTEMPTS": "3",
        "LINEBLOCS_SETTINGS_TTL_S": "0",
    }


@pytest.fixture
def site_s3(jobs_engine: Engine, s3: S3Server) -> None:
    put_settings(jobs_engine, customizations={}, credentials=s3.site_credentials())


@pytest.fixture
def deps(
    jobs_engine: Engine, ari: AriFake, s3: S3Server, site_s3: None, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Maintenance]:
    for name, value in relocation_env(ari, s3).items():
        monkeypatch.setenv(name, value)
    built = bootstrap.build(load_settings(), engine=jobs_engine, options=MaintenanceSettings())
    yield built
    built.ari.close()


def make_recording(engine: Engine, **overrides: Any) -> int:
    with UnitOfWork(engine) as uow:
        user = make_user(uow)
        workspace = make_workspace(uow, creator=user)
        values: dict[str, Any] = {
            "api_id": uuid.uuid4().hex,
            "status": "FINALIZED",
            "user_id": user.id,
            "workspace_id": workspace.id,
            "storage_id": f"rec-{uuid.uuid4().hex[:8]}",
            "storage_server_ip": MEDIA_SERVER,
        }
        values.update(overrides)
        recording = Recording(**values)
        uow.session.add(recording)
        uow.commit()
        assert recording.id is not None
        return recording.id


def recording(engine: Engine, recording_id: int) -> Recording:
    with UnitOfWork(engine) as uow:
        row = uow.session.get(Recording, recording_id)
        assert row is not None
        uow.session.expunge(row)
        return row


def relocation_row(engine: Engine, recording_id: int) -> RecordingRelocation | None:
    with LedgerUnit(engine) as uow:
        stmt = select(RecordingRelocation).where(
            col(RecordingRelocation.recording_id) == recording_id
        )
        return uow.session.execute(stmt).scalars().first()


# --- housekeeping: log purge, retention, unset-password cleanup --------------------------------

NOW = whole_seconds()
DAY = timedelta(days=1)


@pytest.fixture
def engine(any_lineblocs_engine: Engine) -> Engine:
    """Fresh and legacy Lineblocs schemas, each with our lbj_* tables."""
    migrate.upgrade(any_lineblocs_engine)
    return any_lineblocs_engine


MakeDeps = Callable[..., Maintenance]


@pytest.fixture
def make_deps(engine: Engine) -> MakeDeps:
    def make(**options: Any) -> Maintenance:
        return bootstrap.build(
            load_settings(),
            engine=engine,
            clock=FixedClock(NOW),
            options=MaintenanceSettings(**options),
        )

    return make


def count(engine: Engine, table: str, where: str = "1=1", **params: Any) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(text(f"SELECT COUNT(*) FROM {table} WHERE {where}"), params).scalar_one()
        )
