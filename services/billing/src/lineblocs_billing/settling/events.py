"""Ids of the events settling sends (receipts, failure notices) through the outbox.

Derived from the period (and the try), so a second write of the same event fails on the
outbox's unique key instead of notifying twice.
"""

from __future__ import annotations

import uuid

from lineblocs_shared.models.billing_runs import BillingPeriodRecord

# Fixed forever: event ids of receipts and failure notices derive from it.
EVENT_NAMESPACE = uuid.UUID("3b0c6a8e-2f43-5d7e-8a61-94c1d0e7b2f5")


def event_id(kind: str, record: BillingPeriodRecord, *, attempt: int = 0) -> str:
    return str(uuid.uuid5(EVENT_NAMESPACE, f"{kind}:{record.id}:{attempt}"))
