"""Recording relocation in `lineblocs-jobs demo`: a few finalized recordings on the in-process
fake media server, relocated by the real actors to the local folder store (the embedded
default), and one the media server has lost, marked missing."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlmodel import col

from lineblocs_maintenance.relocation.ari import InMemoryAri
from lineblocs_shared.contracts import RELOCATE_RECORDINGS, RelocateRecordings
from lineblocs_shared.db.uow import LedgerUnit, UnitOfWork
from lineblocs_shared.demo.runner import DemoContext, Row
from lineblocs_shared.models.recordings import RecordingRelocation
from lineblocs_shared.models.tenants import Workspace
from lineblocs_shared.models.usage import Recording

MEDIA_SERVER = "10.0.0.21"
SIZES_KIB = (48, 160, 640)


def demo_media_server() -> InMemoryAri:
    """The stored recordings of the demo (a WAV-like header and a deterministic body)."""
    return InMemoryAri(
        {
            (MEDIA_SERVER, f"demo-call-{i}"): b"RIFF" + bytes(range(256)) * (kib * 4)
            for i, kib in enumerate(SIZES_KIB, start=1)
        }
    )


def recordings_folder(ctx: DemoContext) -> Path:
    database = Path(ctx.engine.url.database or "lineblocs-demo.sqlite3").resolve()
    return database.with_name(f"{database.stem}-recordings")


def relocate_demo_recordings(ctx: DemoContext, media_server: InMemoryAri) -> None:
    """Seed the recordings, send one sweep tick, let the actors run, report."""
    names = [name for _host, name in media_server.files] + ["demo-call-lost"]
    with UnitOfWork(ctx.engine) as uow:
        workspace = uow.session.execute(select(Workspace).order_by(col(Workspace.id))).scalar()
        assert workspace is not None
        assert workspace.id is not None
        for name in names:
            uow.session.add(
                Recording(
                    api_id=f"rec-{name}",
                    status="FINALIZED",
                    user_id=workspace.creator_id,
                    workspace_id=workspace.id,
                    storage_id=name,
                    storage_server_ip=MEDIA_SERVER,
                )
            )
        uow.commit()
    RELOCATE_RECORDINGS.send(ctx.broker, RelocateRecordings())
    ctx.run_queued_messages()
    ctx.report(
        f"Maintenance — recordings relocated to {recordings_folder(ctx)}",
        ("recording", "storage_id", "state", "bytes", "sha256", "on media server"),
        _rows(ctx, media_server),
    )


def _rows(ctx: DemoContext, media_server: InMemoryAri) -> list[Row]:
    with UnitOfWork(ctx.engine) as uow:
        recordings = uow.session.execute(select(Recording).order_by(col(Recording.id))).scalars()
        found = [(r.id or 0, r.storage_id) for r in recordings]
    with LedgerUnit(ctx.engine) as uow:
        marked = uow.session.execute(select(RecordingRelocation)).scalars()
        marks = {m.recording_id: (m.state, m.size_bytes, m.sha256) for m in marked}
    rows: list[Row] = []
    for recording_id, name in found:
        state, size, sha256 = marks.get(recording_id, ("-", None, None))
        on_server = "yes" if (MEDIA_SERVER, name) in media_server.files else "no"
        rows.append(
            (str(recording_id), name, state, str(size or "-"), (sha256 or "-")[:12], on_server)
        )
    return rows
