"""Mailgun's HTTP API (`mail_provider` = mailgun), over httpx.

The whole MIME message goes to `/v3/<domain>/messages.mime`, so the Message-ID and the headers
are ours, as over SMTP. One httpx client per transport (connections kept alive between mails).
"""

from __future__ import annotations

import httpx

from lineblocs_notifications.delivery.email import OutgoingEmail
from lineblocs_notifications.delivery.transport import (
    DeliveryMisconfigured,
    DeliveryUnavailable,
    MailRefused,
)
from lineblocs_shared.site_settings.values import MailgunCredentials

DEFAULT_API_BASE = "https://api.mailgun.net"
MAX_PROVIDER_ID = 191


class MailgunTransport:
    name = "mailgun"

    def __init__(self, credentials: MailgunCredentials, *, api_base: str, timeout_s: float) -> None:
        self._domain = credentials.domain
        self._client = httpx.Client(
            base_url=api_base or DEFAULT_API_BASE,
            auth=("api", credentials.api_key),
            timeout=httpx.Timeout(timeout_s, connect=5.0),
        )

    def send(self, email: OutgoingEmail) -> str:
        try:
            response = self._client.post(
                f"/v3/{self._domain}/messages.mime",
                data={"to": email.to},
                files={"message": ("message.mime", email.wire_bytes(), "message/rfc822")},
            )
        except httpx.TransportError as exc:  # timeouts, refused or dropped connections
            raise DeliveryUnavailable(f"Mailgun: {type(exc).__name__}: {exc}") from None
        if response.status_code == 200:
            return str(response.json().get("id", ""))[:MAX_PROVIDER_ID]
        raise _refusal(response, self._domain)

    def close(self) -> None:
        self._client.close()


def _refusal(response: httpx.Response, domain: str) -> Exception:
    status, text = response.status_code, _message(response)
    if status == 429 or status >= 500:
        return DeliveryUnavailable(f"Mailgun answered {status}: {text}")
    if status in (401, 403):
        return DeliveryMisconfigured(f"Mailgun refused the API key for {domain} ({status})")
    if status == 400 and "address" in text.lower():
        return MailRefused(f"Mailgun: {text}")
    return DeliveryMisconfigured(f"Mailgun answered {status} for domain {domain}: {text}")


def _message(response: httpx.Response) -> str:
    try:
        return str(response.json().get("message", ""))[:300]
    except ValueError:
        return response.text[:300]
