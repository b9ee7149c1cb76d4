"""Settings of the billing service (read once, by its composition root).

Lineblocs' own billing settings (gateway, keys, currency, retries, invoice due days) live in its
database and are read through `SiteSettings`, kept per worker process for
`LINEBLOCS_SETTINGS_TTL_S` seconds; this class holds only what belongs to our deployment. The
payment adapters have theirs in `lineblocs_shared.payments.PaymentSettings`.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class BillingSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    billing_resettle_after_min: int = Field(
        60,
        ge=5,
        le=24 * 60,
        description="the dunning sweep settles again an invoice left unsettled this long (minutes)",
    )
