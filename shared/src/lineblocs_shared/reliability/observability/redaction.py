"""Recognising secrets: by the name of the field that holds them, or by the look of the value.

Two uses with different needs:
- `redact_arguments` keeps a dead message's arguments for replay, so it only replaces values
  that ARE a secret (a sensitive field, a whole string that is a card number or an API key);
- `scrub_text` cleans free text bound for Sentry, so it also finds secrets and e-mail addresses
  inside longer strings.
"""

from __future__ import annotations

import re
from typing import Any

REDACTED = "[REDACTED]"

# Field names are compared normalised (lower case, letters and digits only). These parts make a
# name secret wherever they appear in it (`stripe_secret_key`, `accessToken`, `card_number`)…
SECRET_NAME_PARTS = (
    "password",
    "passwd",
    "secret",
    "token",
    "apikey",
    "authorization",
    "privatekey",
    "cookie",
    "cvc",
    "cvv",
    "cardnumber",
)
# …these only as the whole name: Stripe's card hash has `number`, while `card_id` or
# `phone_number` are references a replayed message needs.
SECRET_WHOLE_NAMES = frozenset({"card", "number", "pan", "pwd", "auth", "sessionid"})
STRIPE_KEY_NAME = re.compile(r"stripe\w*key")

CARD_CANDIDATE = re.compile(r"(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w-])")
STRIPE_KEY = re.compile(r"\b(?:sk|rk|pk)_(?:live|test)_[0-9A-Za-z]{8,}\b|\bwhsec_[0-9A-Za-z]{8,}\b")
BEARER = re.compile(r"\b(?:Bearer|Basic)\s+[A-Za-z0-9\-._~+/]+=*", re.IGNORECASE)
URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@/\s]+(?=@)", re.IGNORECASE)
# `password=…`, `api_key: …` in log lines, query strings and error texts.
NAMED_SECRET = re.compile(
    r"(?P<head>\b(?:password|passwd|pwd|secret|token|api[_-]?key|client_secret)\b[\"']?\s*[=:]\s*)"
    r"[\"']?[^\s&\"',;]+",
    re.IGNORECASE,
)
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
EMAIL_MARK = "[email]"
NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def is_secret_name(name: str) -> bool:
    """Whether a field called `name` holds a secret (`card_number`, `apiKey`, `Authorization`)."""
    compact = NOT_ALNUM.sub("", name.lower())
    return (
        compact in SECRET_WHOLE_NAMES
        or any(part in compact for part in SECRET_NAME_PARTS)
        or STRIPE_KEY_NAME.search(compact) is not None
    )


def passes_luhn(digits: str) -> bool:
    """The checksum every payment card number satisfies."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def is_card_number(text: str) -> bool:
    """13 to 19 digits (spaces or dashes allowed between them) passing Luhn."""
    digits = re.sub(r"[ -]", "", text)
    return digits.isdigit() and 13 <= len(digits) <= 19 and passes_luhn(digits)


def is_secret_value(text: str) -> bool:
    """A whole string that is a card number, a Stripe key or an `Authorization` header value."""
    stripped = text.strip()
    return (
        is_card_number(stripped)
        or STRIPE_KEY.fullmatch(stripped) is not None
        or BEARER.fullmatch(stripped) is not None
    )


def redact_arguments(value: Any) -> Any:
    """A copy of message arguments with secret fields and secret-looking strings replaced."""
    if isinstance(value, dict):
        return {
            key: REDACTED if is_secret_name(str(key)) else redact_arguments(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact_arguments(item) for item in value]
    if isinstance(value, str) and is_secret_value(value):
        return REDACTED
    return value


def contains_redaction(value: Any) -> bool:
    """Whether `redact_arguments` replaced something in this (stored) value."""
    if isinstance(value, dict):
        return any(contains_redaction(item) for item in value.values())
    if isinstance(value, list | tuple):
        return any(contains_redaction(item) for item in value)
    return value == REDACTED


def _card_or_keep(match: re.Match[str]) -> str:
    return REDACTED if is_card_number(match.group(0)) else match.group(0)


def scrub_text(text: str) -> str:
    """Free text with card numbers, keys, bearer tokens, URL passwords and e-mails removed."""
    text = URL_PASSWORD.sub(lambda m: m.group("head") + REDACTED, text)
    text = STRIPE_KEY.sub(REDACTED, text)
    text = BEARER.sub(REDACTED, text)
    text = NAMED_SECRET.sub(lambda m: m.group("head") + REDACTED, text)
    text = CARD_CANDIDATE.sub(_card_or_keep, text)
    return EMAIL.sub(EMAIL_MARK, text)
