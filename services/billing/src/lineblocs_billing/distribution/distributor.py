"""The billing distributor: one bill message per billable subscription and due period.

Billing rules R-PERIOD-1 to R-PERIOD-7 (docs/billing-rules.md) say who is billed and for which
period; `periods` computes the periods; this module turns them into `BILL_SUBSCRIPTION` messages and
hands them, as a lazy stream, to a `MessagePublisher` (confirmed bulk publishing on RabbitMQ,
`broker.enqueue` on the in-process broker). De-duplication, from the outside in (docs/billing.md,
"Distributor"):
1. one distribution per hourly tick: the periodic run claims its tick (`PeriodicRunner`);
2. one message id per subscription and period (uuid5 of `bill:<subscription>:<period start>`):
   a re-run republishes the same id, and a dead letter of that id alerts once, not hourly;
3. periods whose `lbj_billing_periods` row is settled are not enqueued again;
4. the bill handler is idempotent on that table's unique key: the guarantee (1 to 3 only save work).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from lineblocs_billing.distribution.scan import (
    DEFAULT_PAGE_SIZE,
    BillableSubscription,
    PeriodKey,
    billable_pages,
    settled_periods,
)
from lineblocs_billing.invoicing.periods import BillingPeriod, due_periods, next_due_period
from lineblocs_shared.clock import Clock
from lineblocs_shared.contracts import BILL_SUBSCRIPTION, BillSubscription, Message
from lineblocs_shared.queue.bulk import MessagePublisher, PublishFailure
from lineblocs_shared.queue.read_ahead import ReadAhead

log = logging.getLogger(__name__)

# Fixed forever: changing it would give every period a new message id.
BILL_MESSAGE_NAMESPACE = uuid.UUID("8d0f3c52-6a0e-5b8e-9c4e-2f1f6a3b7d10")
DRY_RUN_SAMPLE = 10
READ_AHEAD_PAGES = 2


def bill_message_id(subscription_id: int, period_start: datetime) -> str:
    """The same id for the same subscription and period, in every run and every process."""
    return str(
        uuid.uuid5(
            BILL_MESSAGE_NAMESPACE, f"bill:{subscription_id}:{period_start:%Y-%m-%dT%H:%M:%S}"
        )
    )


@dataclass(frozen=True)
class DueBill:
    """One subscription period to bill."""

    subscription_id: int
    workspace_id: int
    period: BillingPeriod
    as_of: datetime | None = None  # the instant the period was judged due by

    @property
    def key(self) -> PeriodKey:
        return (self.period.cycle.value, self.workspace_id, self.period.start)

    @property
    def message_id(self) -> str:
        return bill_message_id(self.subscription_id, self.period.start)

    def message(self) -> Message:
        payload = BillSubscription(
            subscription_id=self.subscription_id,
            period_start=self.period.start,
            period_end=self.period.end,
            as_of=self.as_of,
        )
        return BILL_SUBSCRIPTION.message(payload, message_id=self.message_id)


def periods_due(subscription: BillableSubscription, *, now: datetime) -> list[BillingPeriod]:
    """The subscription's periods whose end has passed, oldest first (catch-up)."""
    return list(due_periods(next_due_period(subscription, now=now), now=now))


@dataclass
class DistributionReport:
    """What one distribution did; `failed` lists every message RabbitMQ did not confirm."""

    now: datetime
    dry_run: bool = False
    scanned: int = 0  # billable subscriptions read
    due: int = 0  # their due periods
    settled: int = 0  # due periods skipped: their row is already settled
    enqueued: int = 0  # confirmed by the broker
    failed: list[PublishFailure] = field(default_factory=list)
    elapsed_s: float = 0.0
    sample: list[DueBill] = field(default_factory=list)  # dry run: the first few bills

    @property
    def to_enqueue(self) -> int:
        return self.due - self.settled

    @property
    def rate(self) -> float:
        done = self.to_enqueue if self.dry_run else self.enqueued
        return done / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def summary(self) -> dict[str, Any]:
        """The run ledger's summary (JSON)."""
        return {
            "now": self.now.isoformat(),
            "scanned": self.scanned,
            "due": self.due,
            "settled": self.settled,
            "enqueued": self.enqueued,
            "failed": len(self.failed),
            "elapsed_s": round(self.elapsed_s, 3),
        }

    def line(self) -> str:
        """The one summary line of `billing run`."""
        head = (
            f"{self.scanned} subscriptions scanned, {self.due} periods due, "
            f"{self.settled} already settled, "
        )
        if self.dry_run:
            body = f"{self.to_enqueue} would be enqueued (dry run)"
        else:
            body = f"{self.enqueued} enqueued, {len(self.failed)} failed"
        return f"{head}{body} in {self.elapsed_s:.2f}s ({self.rate:,.0f}/s)"


# Called after each page is planned: (subscriptions in the page, the report so far).
ProgressHook = Callable[[int, DistributionReport], None]


@dataclass(frozen=True)
class Distributor:
    engine: Engine
    clock: Clock
    publisher: MessagePublisher
    page_size: int = DEFAULT_PAGE_SIZE


def _due_pages(
    distributor: Distributor, report: DistributionReport, progress: ProgressHook | None
) -> Iterator[list[DueBill]]:
    """The bills to enqueue, one page of subscriptions at a time."""
    for page in billable_pages(distributor.engine, now=report.now, page_size=distributor.page_size):
        bills = [
            (DueBill(sub.id, sub.workspace_id, period, as_of=report.now), sub)
            for sub in page
            for period in periods_due(sub, now=report.now)
        ]
        flagged = [bill.key for bill, sub in bills if sub.may_have_settled]
        settled = settled_periods(distributor.engine, flagged) if flagged else set()
        due = [bill for bill, _sub in bills if not settled or bill.key not in settled]
        report.scanned += len(page)
        report.due += len(bills)
        report.settled += len(bills) - len(due)
        if progress is not None:
            progress(len(page), report)
        yield due


def distribute(
    distributor: Distributor,
    *,
    now: datetime | None = None,
    dry_run: bool = False,
    progress: ProgressHook | None = None,
) -> DistributionReport:
    """Enqueue one bill message per billable subscription and due period (or, in a dry run,
    count them and keep the first few). A failed publish does not raise: see `report.failed`;
    a failure to read the database does, once the publisher is done with what was read.
    """
    report = DistributionReport(now=now or distributor.clock.now(), dry_run=dry_run)
    started = time.monotonic()
    pages = _due_pages(distributor, report, progress)
    if dry_run:
        for page in pages:
            report.sample.extend(page[: DRY_RUN_SAMPLE - len(report.sample)])
    else:
        # Memory: the page being published, the one being planned and READ_AHEAD_PAGES queued.
        messages = ReadAhead(
            ([bill.message() for bill in page] for page in pages), depth=READ_AHEAD_PAGES
        )
        try:
            result = distributor.publisher.publish(messages)
        finally:
            messages.close()
        if messages.error is not None:
            raise messages.error
        report.enqueued = result.published
        report.failed = list(result.failed)
    report.elapsed_s = time.monotonic() - started
    _log(report)
    return report


def _log(report: DistributionReport) -> None:
    if report.failed:
        first = report.failed[0]
        log.error(
            "billing distribution incomplete: %s; first failure: message %s: %s",
            report.line(),
            first.message_id,
            first.reason,
        )
    else:
        log.info("billing distribution: %s", report.line())
