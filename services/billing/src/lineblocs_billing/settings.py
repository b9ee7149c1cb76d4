"""Settings of the billing service (read once, by its composition root).

Lineblocs' own billing settings (gateway, keys, currency, retries, invoice due days) live in its
database and are read per run through `LineblocsSettings`; this class holds only what belongs to
our deployment. Invoicing and the preview need none yet: the gateway and the distributor add
theirs here.
"""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class BillingSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)
