"""The dunning sweep: every 15 minutes, one retry message per billing period that is due.

Due times live in `lbj_billing_periods.next_attempt_at`, never in queue delays (R-DUN-1:
delayed messages wait unacked in worker memory and RabbitMQ's consumer timeout cuts them). Due:
- `failed` with `next_attempt_at <= now`: the ladder's next try, or an unresolved try whose
  delivery died (a new attempt pushes `next_attempt_at` by BILLING_RESETTLE_AFTER_MIN);
- `invoiced` untouched for BILLING_RESETTLE_AFTER_MIN: a bill message that died before settling.
The retry handler decides again under the period's lock, so a message too many is harmless.
Message ids derive from the period and its try, so a re-run republishes the same ids and a dead
letter of one of them alerts once, not every quarter of an hour.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, or_, select
from sqlmodel import col

from lineblocs_shared.contracts import RETRY_INVOICE_PAYMENT, Message, RetryInvoicePayment
from lineblocs_shared.db.paging import keyset_pages
from lineblocs_shared.models.billing_runs import BillingPeriodRecord, PeriodState
from lineblocs_shared.queue.bulk import MessagePublisher, PublishFailure

log = logging.getLogger(__name__)

PAGE_SIZE = 1000
# Fixed forever: changing it would give every due try a new message id.
RETRY_MESSAGE_NAMESPACE = uuid.UUID("c4d6a1f0-8b2e-5f37-9e15-6a7b3c2d1e09")


@dataclass(frozen=True)
class DuePeriod:
    id: int
    state: str
    tries: int  # failed tries so far: part of the message id

    def message(self) -> Message:
        message_id = uuid.uuid5(
            RETRY_MESSAGE_NAMESPACE, f"retry:{self.id}:{self.state}:{self.tries}"
        )
        payload = RetryInvoicePayment(billing_period_id=self.id)
        return RETRY_INVOICE_PAYMENT.message(payload, message_id=str(message_id))


@dataclass
class SweepReport:
    due: int = 0
    enqueued: int = 0
    failed: list[PublishFailure] | None = None

    def summary(self) -> dict[str, Any]:
        return {"due": self.due, "enqueued": self.enqueued, "failed": len(self.failed or [])}


def due_pages(
    engine: Engine, *, now: datetime, resettle_after: timedelta, page_size: int = PAGE_SIZE
) -> Iterator[list[DuePeriod]]:
    """Due periods by ascending id, one short query per page (keyset)."""
    periods = BillingPeriodRecord
    due = or_(
        and_(
            col(periods.state) == PeriodState.FAILED.value,
            col(periods.next_attempt_at) <= now,
        ),
        and_(
            col(periods.state) == PeriodState.INVOICED.value,
            or_(col(periods.next_attempt_at).is_(None), col(periods.next_attempt_at) <= now),
            col(periods.updated_at) <= now - resettle_after,
        ),
    )
    query = select(col(periods.id), col(periods.state), col(periods.dunning_attempts)).where(due)
    for rows in keyset_pages(engine, query, key=col(periods.id), page_size=page_size):
        yield [DuePeriod(id=int(row[0]), state=row[1], tries=row[2]) for row in rows]


def sweep(
    engine: Engine,
    publisher: MessagePublisher,
    *,
    now: datetime,
    resettle_after: timedelta,
) -> SweepReport:
    """Enqueue one retry message per due period (confirmed); failures are in the report."""
    report = SweepReport()

    def messages() -> Iterator[Message]:
        for page in due_pages(engine, now=now, resettle_after=resettle_after):
            report.due += len(page)
            yield from (period.message() for period in page)

    result = publisher.publish(messages())
    report.enqueued = result.published
    report.failed = list(result.failed)
    log.info("dunning sweep: %d due, %d enqueued", report.due, report.enqueued)
    return report
