"""Message contracts between processes and services.

A service never imports another service: to ask another service for work it sends a message
built from a contract here (queue, actor name, payload model). The receiving actor is declared
with the same queue and actor name and validates its kwargs with the same payload model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import dramatiq
from pydantic import BaseModel, ConfigDict, Field

PayloadT = TypeVar("PayloadT", bound="Payload")


class Queues:
    """Each service consumes the queue named after it (plus Dramatiq's `.DQ`/`.XQ`)."""

    BILLING = "billing"
    MAINTENANCE = "maintenance"
    NOTIFICATIONS = "notifications"


class Payload(BaseModel):
    """Base of message payloads: strict, versioned, unknown fields refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class Contract(Generic[PayloadT]):
    queue: str
    actor: str
    payload: type[PayloadT]

    def message(self, payload: PayloadT, **options: Any) -> dramatiq.Message[Any]:
        return dramatiq.Message(
            queue_name=self.queue,
            actor_name=self.actor,
            args=(),
            kwargs=payload.model_dump(mode="json"),
            options=options,
        )

    def send(self, broker: dramatiq.Broker, payload: PayloadT) -> dramatiq.Message[Any]:
        """Publish (confirmed when the broker has confirms on) and return the message sent."""
        return broker.enqueue(self.message(payload))

    def parse(self, kwargs: dict[str, Any]) -> PayloadT:
        """Validate a received message's kwargs; raises pydantic.ValidationError when bad."""
        return self.payload.model_validate(kwargs)


class PurgeLogs(Payload):
    """Delete debugger logs and user error traces older than the retention window."""

    retention_days: int | None = Field(default=None, ge=1, le=3650)


PURGE_LOGS = Contract(queue=Queues.MAINTENANCE, actor="purge_logs", payload=PurgeLogs)
