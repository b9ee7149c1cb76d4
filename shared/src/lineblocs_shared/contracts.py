"""Message contracts between processes and services.

A service never imports another service: to ask another service for work it sends a message
built from a contract here (queue, actor name, payload model). The receiving actor is declared
with the same queue and actor name and validates its kwargs with the same payload model.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

import dramatiq
from dramatiq.message import generate_unique_id
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from lineblocs_shared.db.types import as_utc
from lineblocs_shared.queue.names import Queues as Queues

PayloadT = TypeVar("PayloadT", bound="Payload")
# What publishers carry: handlers build messages through contracts, never with dramatiq itself.
Message = dramatiq.Message[Any]


class Payload(BaseModel):
    """Base of message payloads: strict types ("42" is not an id, 1.0 not a count), unknown
    fields refused. A payload that does not validate now never will: the error is fatal."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


# Instants travel as ISO-8601 text in JSON: the one type read leniently. Without a zone: UTC.
Instant = Annotated[datetime, Field(strict=False), AfterValidator(as_utc)]


@dataclass(frozen=True)
class Contract(Generic[PayloadT]):
    queue: str
    actor: str
    payload: type[PayloadT]

    def message(
        self, payload: PayloadT, *, message_id: str | None = None, **options: Any
    ) -> Message:
        """The message of `payload`; a `message_id` of the sender's choosing makes a re-sent
        message the same message (consumers and dead letters recognise it)."""
        return dramatiq.Message(
            queue_name=self.queue,
            actor_name=self.actor,
            args=(),
            kwargs=payload.model_dump(mode="json"),
            options=options,
            message_id=message_id or generate_unique_id(),
        )

    def send(self, broker: dramatiq.Broker, payload: PayloadT) -> Message:
        """Publish (confirmed when the broker has confirms on) and return the message sent."""
        return broker.enqueue(self.message(payload))

    def parse(self, kwargs: dict[str, Any]) -> PayloadT:
        """Validate a received message's kwargs; raises pydantic.ValidationError when bad."""
        return self.payload.model_validate(kwargs)


class PurgeLogs(Payload):
    """Delete debugger logs and user error traces older than the retention window."""

    retention_days: int | None = Field(default=None, ge=1, le=3650)


PURGE_LOGS = Contract(queue=Queues.MAINTENANCE, actor="purge_logs", payload=PurgeLogs)


class CleanupUsers(Payload):
    """Delete users who never set their password (and have no money or usage records)."""


CLEANUP_USERS = Contract(queue=Queues.MAINTENANCE, actor="cleanup_users", payload=CleanupUsers)


class ApplyRetention(Payload):
    """Delete our own housekeeping rows (outbox, processed events, runs, dead letters) past
    their retention; money and audit records are never among them."""


APPLY_RETENTION = Contract(
    queue=Queues.MAINTENANCE, actor="apply_retention", payload=ApplyRetention
)


class RelocateRecordings(Payload):
    """Find the finalized recordings still on a media server and queue one relocation each."""


class RelocateRecording(Payload):
    """Move one recording from its Asterisk server to object storage (idempotent per id)."""

    recording_id: int = Field(ge=1)


RELOCATE_RECORDINGS = Contract(
    queue=Queues.MAINTENANCE, actor="relocate_recordings", payload=RelocateRecordings
)
RELOCATE_RECORDING = Contract(
    queue=Queues.MAINTENANCE, actor="relocate_recording", payload=RelocateRecording
)


# --- billing ----------------------------------------------------------------------------------


class BillSubscription(Payload):
    """Invoice and settle one subscription for one period (idempotent per period)."""

    subscription_id: int = Field(ge=1)
    period_start: Instant
    period_end: Instant
    # The instant the distribution judged this period due by (a tick, or an operator's
    # `billing run --now`): the worker judges by it too, so a subscription whose period depends
    # on "now" (no next_billing_date) is billed for the period that was enqueued. Absent on
    # messages of older releases: the worker's clock.
    as_of: Instant | None = None

    @model_validator(mode="after")
    def _ends_after_it_starts(self) -> BillSubscription:
        if self.period_end <= self.period_start:
            raise ValueError("period_end must be after period_start")
        return self


class RetryInvoicePayment(Payload):
    """Dunning: try again to collect a FAILED invoice (one new attempt, one new key)."""

    billing_period_id: int = Field(ge=1)


BILL_SUBSCRIPTION = Contract(
    queue=Queues.BILLING, actor="bill_subscription", payload=BillSubscription
)
RETRY_INVOICE_PAYMENT = Contract(
    queue=Queues.BILLING, actor="retry_invoice_payment", payload=RetryInvoicePayment
)


# --- notifications (billing events, sent through the outbox) --------------------------------


class PaymentFailed(Payload):
    """A charge was declined or impossible: the site's `payment_failures` fields, and more."""

    workspace_id: int
    subscription_id: int
    creator_id: int
    invoice_id: int
    reason: str  # the gateway's decline code, or no_card
    card_brand: str | None = Field(default=None, max_length=64)
    card_last_4: str | None = Field(default=None, pattern=r"^\d{1,4}$")
    attempt: int = Field(ge=1)
    amount_cents: int = Field(ge=0)
    currency: str = Field(min_length=3, max_length=3)


class PaymentReceipt(Payload):
    """An invoice was paid (by card or prepaid credits)."""

    workspace_id: int
    subscription_id: int
    creator_id: int
    invoice_id: int
    amount_cents: int = Field(ge=0)
    currency: str = Field(min_length=3, max_length=3)
    paid_at: Instant
    source: str  # CARD or CREDITS


PAYMENT_FAILED = Contract(queue=Queues.NOTIFICATIONS, actor="payment_failed", payload=PaymentFailed)
PAYMENT_RECEIPT = Contract(
    queue=Queues.NOTIFICATIONS, actor="payment_receipt", payload=PaymentReceipt
)


class WorkspaceSuspended(Payload):
    """A workspace's suspension was initiated: its invoice is unpaid after the last dunning try."""

    workspace_id: int
    creator_id: int
    invoice_id: int
    suspension_id: int
    suspended_at: Instant


WORKSPACE_SUSPENDED = Contract(
    queue=Queues.NOTIFICATIONS, actor="workspace_suspended", payload=WorkspaceSuspended
)
