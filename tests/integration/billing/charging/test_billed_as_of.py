"""`billing run --now` with an earlier instant: the instant travels with each bill message, so
a subscription whose period depends on "now" (no next_billing_date) is billed for the period
the distribution enqueued — not dropped as superseded by the worker's clock and enqueued again
by every later run."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lineblocs_billing import handlers
from lineblocs_billing.distribution.distributor import Distributor, distribute
from lineblocs_billing.invoicing.invoice_period import OutcomeKind
from lineblocs_shared.contracts import BILL_SUBSCRIPTION, BillSubscription
from lineblocs_shared.queue.bulk import RecordingMessagePublisher
from tests.integration.billing.charging.conftest import Billed

pytestmark = pytest.mark.integration

OPERATOR_NOW = datetime(2026, 10, 20, 9, tzinfo=UTC)  # the clock says 2026-11-23
SEPTEMBER = (datetime(2026, 9, 1, tzinfo=UTC), datetime(2026, 10, 1, tzinfo=UTC))


def enqueued_as_of(billed: Billed, at: datetime) -> list[BillSubscription]:
    publisher = RecordingMessagePublisher()
    distributor = Distributor(engine=billed.engine, clock=billed.clock, publisher=publisher)
    distribute(distributor, now=at)
    return [BILL_SUBSCRIPTION.parse(m.kwargs) for m in publisher.published]


def test_a_period_enqueued_as_of_an_earlier_instant_is_billed_by_that_instant(
    billed: Billed,
) -> None:
    tenant = billed.tenant(subscription={"next_billing_date": None})

    [payload] = enqueued_as_of(billed, OPERATOR_NOW)
    report = handlers.bill_subscription(billed.deps, payload)

    assert (payload.period_start, payload.period_end) == SEPTEMBER
    assert payload.as_of == OPERATOR_NOW
    assert [p.invoicing for p in report.periods] == [OutcomeKind.WRITTEN]
    assert billed.record(tenant).period_start.replace(tzinfo=UTC) == SEPTEMBER[0]


def test_without_the_instant_the_worker_would_judge_by_its_clock(billed: Billed) -> None:
    billed.tenant(subscription={"next_billing_date": None})
    [payload] = enqueued_as_of(billed, OPERATOR_NOW)
    older_release = payload.model_copy(update={"as_of": None})

    report = handlers.bill_subscription(billed.deps, older_release)

    assert [p.invoicing for p in report.periods] == [OutcomeKind.SUPERSEDED]


def test_an_instant_later_than_the_workers_clock_is_not_trusted(billed: Billed) -> None:
    billed.tenant(subscription={"next_billing_date": None})
    [payload] = enqueued_as_of(billed, OPERATOR_NOW)
    future = payload.model_copy(update={"as_of": datetime(2027, 1, 1, tzinfo=UTC)})

    assert handlers.judged_at(billed.deps, future) == billed.clock.now()
