"""The delivery port, and how its failures are classified.

A transport sends one `OutgoingEmail` and returns the provider's id for it. It fails in one of
three ways, which the sending step treats differently:
- `DeliveryUnavailable` (transient): timeouts, connection failures, 5xx, SMTP 421/4xx, HTTP
  429 — retried with backoff; the mail stays pending.
- `MailRefused`: the provider refused this mail for good — its address (SMTP 550, Mailgun 400
  naming it) or its content (SMTP 5xx to DATA) — the mail is FAILED, not retried, not alerted:
  the next mail goes through.
- `DeliveryMisconfigured` (fatal): bad credentials, a TLS failure, no host — a dead letter and
  one alert with a clear message; no password is ever in it.
"""

from __future__ import annotations

from typing import Protocol

from lineblocs_notifications.delivery.email import OutgoingEmail
from lineblocs_shared.reliability.failures.taxonomy import FatalError, TransientError


class Transport(Protocol):
    name: str

    def send(self, email: OutgoingEmail) -> str:
        """Send `email`; the provider's id of it. Raises one of the errors below."""
        ...

    def close(self) -> None:
        """Let go of kept connections (settings changed, or the worker stops)."""
        ...


class DeliveryUnavailable(TransientError):
    """The provider could not take the mail now: try again later."""


class DeliveryMisconfigured(FatalError):
    """The provider refused us (credentials, TLS, settings): an operator must act."""


class MailRefused(Exception):
    """The provider refused this mail (its address or its content): it cannot be delivered."""
