"""Running one sweep: scan its candidates page by page, drop what the ledger already has, send
one `send_notification` message per mail left.

Memory is bounded by one page (keyset pages, `paging.keyset_pages`); each page costs one ledger
query and one bulk publish. `dry_run` finds and counts, and sends nothing.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from lineblocs_notifications.kinds.catalog import MailRequest
from lineblocs_notifications.schedules import SEND_NOTIFICATION, SendNotification
from lineblocs_notifications.settings import NotificationSettings
from lineblocs_shared.contracts import Message
from lineblocs_shared.queue.bulk import MessagePublisher
from lineblocs_shared.reliability.periodic.jobs import PeriodicJob
from lineblocs_shared.site_settings.reader import SiteSettings

log = logging.getLogger(__name__)

# The namespace of message ids derived from dedupe keys (any fixed UUID would do).
MESSAGE_NAMESPACE = uuid.UUID("6f0c1f9e-3b52-4c1e-9a57-2f1d5e0b7c41")
PAGE_SIZE = 1000


@dataclass(frozen=True)
class Scan:
    """What a sweep's candidates are computed from: the instant, and the knobs."""

    now: datetime
    options: NotificationSettings
    site: SiteSettings
    page_size: int = PAGE_SIZE


Pages = Iterator[Sequence[MailRequest]]


@dataclass(frozen=True)
class Sweep:
    name: str  # what `notifications run SWEEP` calls it
    job: PeriodicJob
    candidates: Callable[[Engine, Scan], Pages]  # the mails due, a page at a time


@dataclass
class MailSweepReport:
    sweep: str
    now: str
    found: int = 0  # mails due by the rules
    known: int = 0  # already settled or being sent (the ledger has them)
    enqueued: int = 0
    failed: int = 0  # publishes the broker refused: the next run sends them
    dry_run: bool = False
    sample: list[str] = field(default_factory=list)  # dedupe keys of the first mails left

    def summary(self) -> dict[str, Any]:
        """The run ledger's summary (JSON)."""
        return {k: v for k, v in vars(self).items() if k != "sample"}


def message_id_of(dedupe_key: str) -> str:
    return str(uuid.uuid5(MESSAGE_NAMESPACE, dedupe_key))


def send_message(request: MailRequest, *, resend_of: int | None = None) -> Message:
    payload = SendNotification(
        kind=request.kind.name,
        dedupe_key=request.dedupe_key,
        user_id=request.user_id,
        workspace_id=request.workspace_id,
        variables=request.variables,
        resend_of=resend_of,
    )
    return SEND_NOTIFICATION.message(payload, message_id=message_id_of(request.dedupe_key))


def run_sweep(
    sweep: Sweep,
    *,
    engine: Engine,
    scan: Scan,
    known: Callable[[Sequence[str], datetime], set[str]],
    publisher: MessagePublisher | None,
) -> MailSweepReport:
    """Sweep once at `scan.now`; `publisher` None is a dry run. The messages go to the
    publisher as one lazy stream: one connection and one confirm window for the whole sweep,
    while memory holds a page."""
    report = MailSweepReport(sweep.name, scan.now.isoformat(), dry_run=publisher is None)
    due = _due(sweep, engine=engine, scan=scan, known=known, report=report)
    if publisher is None:
        for _request in due:
            pass  # found and counted
    else:
        result = publisher.publish(send_message(request) for request in due)
        report.enqueued += result.published
        report.failed += len(result.failed)
    log.info("sweep %s at %s: %s", sweep.name, scan.now.isoformat(), report.summary())
    return report


def _due(
    sweep: Sweep,
    *,
    engine: Engine,
    scan: Scan,
    known: Callable[[Sequence[str], datetime], set[str]],
    report: MailSweepReport,
) -> Iterator[MailRequest]:
    """The mails due, page by page, minus those the ledger has; counted in `report`."""
    for page in sweep.candidates(engine, scan):
        already = known([request.dedupe_key for request in page], scan.now)
        due = [request for request in page if request.dedupe_key not in already]
        report.found += len(page)
        report.known += len(page) - len(due)
        report.sample.extend(r.dedupe_key for r in due[: max(0, 20 - len(report.sample))])
        yield from due
