"""Settings of the notifications service (read once, by its composition root).

Lineblocs' own mail settings (`mail_provider`, the `smtp_*` keys, Mailgun's domain and key) live
in its database and are read through `SiteSettings`; this class holds what belongs to our
deployment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from limits import parse
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Transport = Literal["", "smtp", "mailgun", "file"]


class NotificationSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    mail_transport_override: Transport = Field(
        "",
        description=(
            "empty: Lineblocs' mail_provider (smtp-gateway or mailgun); smtp, mailgun or file "
            "override it (file is refused in staging/production)"
        ),
    )
    mail_file_dir: Path = Field(
        Path("mail-outbox"), description="file transport: the folder .eml files are written to"
    )
    mail_from: str = Field(
        "",
        description=(
            "From address; empty: smtp_user for SMTP, else Lineblocs' contact_email, else "
            "no-reply@<Mailgun domain>"
        ),
    )
    mailgun_api_base: str = Field(
        "", description="Mailgun API base scheme://host[:port]; empty is https://api.mailgun.net"
    )
    mail_timeout_s: float = Field(20, gt=0, le=120, description="one delivery's timeout (s)")
    mail_tls_ca_file: str = Field(
        "", description="extra CA bundle (PEM) to verify the SMTP server's certificate with"
    )
    smtp_rate_limit: str = Field(
        "", description="SMTP sends allowed per worker process, e.g. 10/second; empty: no limit"
    )
    mailgun_rate_limit: str = Field(
        "", description="Mailgun sends allowed per worker process, e.g. 50/second; empty: none"
    )
    mail_breaker_failures: int = Field(
        5, ge=1, le=1000, description="transient failures in a row that open a provider's circuit"
    )
    mail_breaker_reset_s: float = Field(
        60, gt=0, le=3600, description="seconds an open circuit leaves the provider alone"
    )
    free_trial_notice_days: int = Field(
        3, ge=1, le=30, description="free_trial_expiring: days before a trial ends"
    )
    notification_lease_s: int = Field(
        300, ge=30, le=3600, description="a delivery's hold on a mail before another may send it"
    )
    site_name: str = Field("Lineblocs", description="the name mails sign with")
    unsubscribe_url: str = Field(
        "",
        description=(
            "https endpoint receiving one-click unsubscribes (RFC 8058) of unsolicited mails; "
            "empty: a mailto: link to Lineblocs' contact_email"
        ),
    )
    unsubscribe_secret: SecretStr = Field(
        SecretStr(""), description="HMAC key of unsubscribe links; required with UNSUBSCRIBE_URL"
    )

    @model_validator(mode="after")
    def _unsubscribe_is_signed(self) -> NotificationSettings:
        if self.unsubscribe_url and not self.unsubscribe_secret.get_secret_value():
            raise ValueError("UNSUBSCRIBE_URL needs UNSUBSCRIBE_SECRET to sign its links")
        if self.unsubscribe_url and not self.unsubscribe_url.startswith(("https://", "http://")):
            raise ValueError("UNSUBSCRIBE_URL must be an http(s) URL")
        return self

    @field_validator("smtp_rate_limit", "mailgun_rate_limit")
    @classmethod
    def _a_rate(cls, value: str) -> str:
        if value:
            try:
                parse(value)
            except ValueError:
                raise ValueError(
                    f"{value!r} is not a rate such as 10/second or 600/minute"
                ) from None
        return value
