"""Typed Lineblocs setting values, and the conversions from what the tables hold.

Conversions are pure functions of a `Found` (a raw str/int/bool and where it came from, for the
error message). A value whose type differs from the one asked for is converted only when that is
lossless ('3' -> 3, '1'/'0' or 1/0 -> True/False, 5 -> '5'): the admin UI saves numbers as
text, and the 2024 migration script copied flags as '1'/'0'. Anything else is a ConfigError
naming the key; a credential's value is never put in a message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeVar

from lineblocs_shared.errors import ConfigError
from lineblocs_shared.site_settings.source import Found

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"", "0", "false", "no", "off"})


class GatewayChoice(StrEnum):
    STRIPE = "stripe"
    BRAINTREE = "braintree"


class StripeMode(StrEnum):
    LIVE = "live"
    TEST = "test"


class BillingFrequency(StrEnum):
    PER_MINUTE = "PER_MINUTE"
    PER_SECOND = "PER_SECOND"


class SmtpEncryption(StrEnum):
    TLS = "tls"  # STARTTLS
    SSL = "ssl"  # implicit TLS (SMTPS)
    NONE = ""


class BraintreeEnvironment(StrEnum):
    SANDBOX = "sandbox"
    PRODUCTION = "production"


@dataclass(frozen=True)
class BraintreeCredentials:
    merchant_id: str
    public_key: str
    private_key: str = field(repr=False)
    environment: BraintreeEnvironment


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    user: str  # also the From address, as the site sends it
    password: str = field(repr=False)
    encryption: SmtpEncryption


@dataclass(frozen=True)
class AwsS3Settings:
    """Where recordings are kept: the bucket, its region, and the key pair that writes to it."""

    bucket: str
    region: str
    access_key_id: str = field(repr=False)
    secret_access_key: str = field(repr=False)


@dataclass(frozen=True)
class MailgunCredentials:
    domain: str
    api_key: str = field(repr=False)


def to_str(found: Found) -> str:
    """A string setting, trimmed: whitespace pasted with a key would only break it."""
    raw = found.raw
    if isinstance(raw, bool):  # before int: bool is an int
        raise ConfigError(f"{found.where()} holds a boolean, expected text")
    return str(raw).strip()


def to_bool(found: Found) -> bool:
    """True/False, or 1/0 and '1'/'0' (how numbers and the migration script wrote flags)."""
    raw = found.raw
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int) and raw in (0, 1):
        return bool(raw)
    if isinstance(raw, str) and raw.strip().lower() in TRUE_WORDS | FALSE_WORDS:
        return raw.strip().lower() in TRUE_WORDS
    raise ConfigError(f"{found.where()} = {raw!r} is not a yes/no value")


def to_int(found: Found) -> int:
    """A whole number; the admin UI saves numbers as text ('3')."""
    raw = found.raw
    if isinstance(raw, bool):
        raise ConfigError(f"{found.where()} holds a boolean, expected a whole number")
    if isinstance(raw, int):
        return raw
    try:
        return int(raw.strip())
    except ValueError:
        raise ConfigError(f"{found.where()} = {raw!r} is not a whole number") from None


E = TypeVar("E", bound=StrEnum)


def to_choice(found: Found, choices: type[E]) -> E:
    """One of an enum's values, compared case-insensitively."""
    text = to_str(found)
    by_folded = {choice.value.casefold(): choice for choice in choices}
    if text.casefold() in by_folded:
        return by_folded[text.casefold()]
    allowed = ", ".join(repr(choice.value) for choice in choices)
    raise ConfigError(f"{found.where()} = {text!r} is not one of {allowed}")


def to_smtp_encryption(found: Found) -> SmtpEncryption:
    """'tls'/'ssl' (admin UI), '1'/'0' (setup wizard: TLS on/off), 0/1 (legacy TINYINT)."""
    raw = found.raw
    text = str(int(raw)) if isinstance(raw, bool) else str(raw).strip().lower()
    if text in ("1", "true", "tls"):
        return SmtpEncryption.TLS
    if text == "ssl":
        return SmtpEncryption.SSL
    if text in ("", "0", "false", "disabled", "none"):
        return SmtpEncryption.NONE
    raise ConfigError(f"{found.where()} = {raw!r} is not 'tls', 'ssl' or 'disabled'")
