"""The relocation sweep: finalized recordings still on a media server, in keyset pages, one
`relocate_recording` message each, so one bad file never holds up the others.

A recording is due when its status is FINALIZED, its `s3_url` is empty, and it has no row of
ours, or one with attempts left that is neither final (missing, failed) nor in flight (queued or
relocating within IN_FLIGHT: its message may still be waiting or retrying). The site's
`relocation_attempts` does not decide: the old Go job inflated it without limit. The published
ones are marked queued, so the next sweep does not queue them again while a backlog drains.
`dry_run` only counts.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, Select, and_, or_, select

from lineblocs_maintenance.relocation.records import RECORDINGS, RELOCATIONS, mark_queued
from lineblocs_shared.contracts import RELOCATE_RECORDING, Message, RelocateRecording
from lineblocs_shared.db.paging import keyset_pages
from lineblocs_shared.models.recordings import FINAL_RELOCATION_STATES
from lineblocs_shared.queue.bulk import MessagePublisher

log = logging.getLogger(__name__)
# The relocate actor's retry window and time limit, and a margin (`actors.RELOCATE_RETRIES`).
IN_FLIGHT = timedelta(hours=2)
SAMPLE = 20
MESSAGE_NAMESPACE = uuid.UUID("0b6f3c52-9d1e-4f0a-8c77-5e2a41d9b3f8")


@dataclass
class RelocationSweepReport:
    now: str
    found: int = 0  # recordings due
    enqueued: int = 0
    failed: int = 0  # publishes the broker refused: the next run queues them
    dry_run: bool = False
    sample: list[int] = field(default_factory=list)  # ids of the first recordings due

    def summary(self) -> dict[str, Any]:
        """The run ledger's summary (JSON)."""
        return {k: v for k, v in vars(self).items() if k != "sample"}


def due_recordings(*, max_attempts: int, now: datetime) -> Select[Any]:
    r, x = RECORDINGS.c, RELOCATIONS.c
    final = [state.value for state in FINAL_RELOCATION_STATES]
    return (
        select(r.id)
        .select_from(RECORDINGS.outerjoin(RELOCATIONS, x.recording_id == r.id))
        .where(
            r.status == "FINALIZED",
            r.s3_url == "",
            or_(
                x.recording_id.is_(None),
                and_(
                    x.attempts < max_attempts,
                    x.state.not_in(final),
                    x.updated_at < now - IN_FLIGHT,
                ),
            ),
        )
    )


def sweep(
    engine: Engine,
    *,
    now: datetime,
    max_attempts: int,
    page_size: int,
    publisher: MessagePublisher | None,
) -> RelocationSweepReport:
    """Queue every recording due at `now`; `publisher` None is a dry run."""
    report = RelocationSweepReport(now.isoformat(), dry_run=publisher is None)
    for ids in _pages(engine, now=now, max_attempts=max_attempts, page_size=page_size):
        report.found += len(ids)
        report.sample.extend(ids[: max(0, SAMPLE - len(report.sample))])
        if publisher is None:
            continue
        messages = {i: relocate_message(i, now) for i in ids}
        result = publisher.publish(messages.values())
        refused = {failure.message_id for failure in result.failed}
        mark_queued(engine, [i for i, m in messages.items() if m.message_id not in refused], now)
        report.enqueued += result.published
        report.failed += len(result.failed)
    log.info("recording relocation sweep at %s: %s", report.now, report.summary())
    return report


def relocate_message(recording_id: int, now: datetime) -> Message:
    """One recording's message; its id, derived from the sweep's instant, names it in the
    publisher's report of refused messages and makes a re-sent copy the same message."""
    message_id = str(uuid.uuid5(MESSAGE_NAMESPACE, f"{recording_id}@{now.isoformat()}"))
    payload = RelocateRecording(recording_id=recording_id)
    return RELOCATE_RECORDING.message(payload, message_id=message_id)


def _pages(
    engine: Engine, *, now: datetime, max_attempts: int, page_size: int
) -> Iterator[list[int]]:
    query = due_recordings(max_attempts=max_attempts, now=now)
    for page in keyset_pages(engine, query, key=RECORDINGS.c.id, page_size=page_size):
        yield [int(row.id) for row in page]
