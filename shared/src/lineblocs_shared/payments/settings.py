"""Process settings of the payment adapters (read once, by a composition root).

Which gateway and which keys come from Lineblocs' own settings (`SiteSettings`); these only
say where the gateways are, how long to wait, and whether a test/demo process replaces them.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from lineblocs_shared.settings import Environment, load

GatewayOverride = Literal["", "fake", "stripe", "braintree"]


class PaymentSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    environment: Environment = Field(
        Environment.DEVELOPMENT, description="ENVIRONMENT, read here to refuse the fake gateway"
    )
    payment_gateway_override: GatewayOverride = Field(
        "", description="empty: Lineblocs' payment_gateway setting; fake|stripe|braintree"
    )
    stripe_api_base: str = Field("", description="Stripe API base URL; empty: api.stripe.com")
    braintree_api_base: str = Field(
        "", description="scheme://host:port of the Braintree API; empty: braintree_environment's"
    )
    payment_timeout_s: float = Field(
        20.0, gt=0, le=120, description="read timeout of one gateway call (seconds)"
    )
    payment_network_retries: int = Field(
        2, ge=0, le=5, description="Stripe SDK retries of a failed connection, 409 or 5xx"
    )
    fake_gateway_latency_ms: int = Field(
        0, ge=0, le=10_000, description="fake gateway: delay of each call (benchmarks)"
    )

    @field_validator("payment_gateway_override", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("stripe_api_base", "braintree_api_base")
    @classmethod
    def _base_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value:
            return value
        url = urlsplit(value)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError(f"{value!r} must be an http:// or https:// URL with a host")
        if url.path or url.query:
            raise ValueError(f"{value!r} must be scheme://host[:port] only (no path)")
        return value

    @model_validator(mode="after")
    def _deployed_uses_real_gateways(self) -> PaymentSettings:
        if not self.environment.is_deployed:
            return self
        if self.payment_gateway_override == "fake":
            raise ValueError(f"PAYMENT_GATEWAY_OVERRIDE=fake is refused in {self.environment}")
        for name, base in (
            ("STRIPE_API_BASE", self.stripe_api_base),
            ("BRAINTREE_API_BASE", self.braintree_api_base),
        ):
            if base and not base.startswith("https://"):
                raise ValueError(f"{name} must be https:// in {self.environment} (keys travel)")
        return self


def load_payment_settings(**overrides: object) -> PaymentSettings:
    return load(PaymentSettings, **overrides)
