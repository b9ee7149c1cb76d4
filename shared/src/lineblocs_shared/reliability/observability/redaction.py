"""Recognising secrets — by the name of the field that holds them, or by the look of the text —
and masking them inside any string, in time linear in its length.

- `mask_secrets(text)`: card numbers (Luhn-valid runs of 13 to 19 digits, spaces or dashes
  between them), API keys, bearer tokens, URL passwords and `password=…`-style pairs are
  replaced inside the text, whatever surrounds them. Logs, dead letters and events use it.
- `scrub_text(text)`: the same, and e-mail addresses too: for Sentry, which gets no personal data.
- `redact_arguments(value)`: a dead message's arguments kept for replay: fields named like a
  secret are replaced whole, every other string has its secrets masked.

Every pattern can only start where a run of its characters starts (a look-behind) and never
backtracks into what it consumed (possessive quantifiers), so no input makes it quadratic: a
5 MB message costs one pass per pattern, not hours. Log and alert texts are cut at `MAX_TEXT` first.
"""

from __future__ import annotations

import re
from typing import Any

REDACTED = "[REDACTED]"
EMAIL_MARK = "[email]"
# What a log line or an alert keeps of a longer text. Message arguments are not cut (a replay
# needs them whole): the broker's message size limit bounds them.
MAX_TEXT = 16 * 1024
TRUNCATED = "…[truncated {} characters]"

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
NOT_ALNUM = re.compile(r"[^a-z0-9]+")

# A run of ASCII digits with single spaces or dashes between them, whatever it is glued to (a
# card number after a letter, or after bytes that are not text, is a card number all the same).
DIGIT_RUN = re.compile(r"[0-9](?:[ -]?[0-9])*+")
DIGIT_GROUP = re.compile(r"[0-9]++")
STRIPE_KEY = re.compile(r"\b(?:(?:sk|rk|pk)_(?:live|test)|whsec)_[0-9A-Za-z]{8,}+")
BEARER = re.compile(r"\b(?:Bearer|Basic)[ \t]++[A-Za-z0-9\-._~+/]++=*+", re.IGNORECASE)
URL_PASSWORD = re.compile(r"(?<=://)(?P<user>[^:/@\s]*+):[^@/\s]++(?=@)")
# `password=…`, `api_key: …` in log lines, query strings and error texts.
NAMED_SECRET = re.compile(
    r"(?P<head>\b(?:password|passwd|pwd|secret|token|api[_-]?key|client_secret)\b[\"']?"
    r"[ \t]*+[=:][ \t]*+)[\"']?[^\s&\"',;]++",
    re.IGNORECASE,
)
EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]++@[A-Za-z0-9-]++(?:\.[A-Za-z0-9-]++)++")
CARD_DIGITS = range(13, 20)
# A digit's contribution when Luhn doubles it (9 subtracted above 9).
LUHN_DOUBLED = {str(d): (2 * d) - 9 if d > 4 else 2 * d for d in range(10)}


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
    kept = sum(map(int, digits[-1::-2]))
    doubled = sum(map(LUHN_DOUBLED.__getitem__, digits[-2::-2]))
    return (kept + doubled) % 10 == 0


def is_card_number(text: str) -> bool:
    """13 to 19 digits (spaces or dashes allowed between them) passing Luhn."""
    digits = re.sub(r"[ -]", "", text)
    ascii_digits = digits.isascii() and digits.isdigit()
    return ascii_digits and len(digits) in CARD_DIGITS and passes_luhn(digits)


def _mask_cards_in_run(match: re.Match[str]) -> str:
    """The run with every card number in it masked: the whole run, or a span of its groups (a
    card followed by a time, a year, another number) that makes one. Within a longer run a card
    is looked for in groups of two digits or more, as cards are written: a run of single digits
    is one candidate only, so that no run costs more than a few checks per group."""
    run = match.group(0)
    if is_card_number(run):
        return REDACTED
    groups = [(g.start(), g.end()) for g in DIGIT_GROUP.finditer(run)]
    pieces, cursor, first = [], 0, 0
    while first < len(groups):
        card = _card_from(run, groups, first)
        if card is None:
            first += 1
            continue
        start, end, last = card
        pieces += [run[cursor:start], REDACTED]
        cursor, first = end, last + 1
    return "".join(pieces) + run[cursor:]


def _card_from(run: str, groups: list[tuple[int, int]], first: int) -> tuple[int, int, int] | None:
    """The longest card number made of groups `first`, `first + 1`…: (start, end, last group)."""
    digits, found = "", None
    for last in range(first, len(groups)):
        start, end = groups[last]
        if end - start < 2:
            break
        digits += run[start:end]
        if len(digits) > CARD_DIGITS[-1]:
            break
        if len(digits) in CARD_DIGITS and passes_luhn(digits):
            found = (groups[first][0], end, last)
    return found


def _email_or_keep(match: re.Match[str]) -> str:
    tld = match.group(0).rsplit(".", 1)[-1]
    return EMAIL_MARK if len(tld) >= 2 and tld.isalpha() else match.group(0)


def truncate(text: str, limit: int = MAX_TEXT) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + TRUNCATED.format(len(text) - limit)


def mask_secrets(text: str) -> str:
    """`text` (cut at MAX_TEXT) with card numbers, keys, tokens and passwords masked."""
    return _mask(truncate(text))


def _mask(text: str) -> str:
    text = URL_PASSWORD.sub(lambda m: f"{m.group('user')}:{REDACTED}", text)
    text = STRIPE_KEY.sub(REDACTED, text)
    text = BEARER.sub(REDACTED, text)
    text = NAMED_SECRET.sub(lambda m: m.group("head") + REDACTED, text)
    return DIGIT_RUN.sub(_mask_cards_in_run, text)


def scrub_text(text: str) -> str:
    """`mask_secrets`, and e-mail addresses too (text bound for Sentry)."""
    return EMAIL.sub(_email_or_keep, mask_secrets(text))


def redact_arguments(value: Any) -> Any:
    """A copy of message arguments: secret fields replaced, secrets inside strings masked."""
    if isinstance(value, dict):
        return {
            key: REDACTED if is_secret_name(str(key)) else redact_arguments(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact_arguments(item) for item in value]
    if isinstance(value, str):
        return _mask(value)
    return value


def contains_redaction(value: Any) -> bool:
    """Whether `redact_arguments` replaced something in this (stored) value."""
    if isinstance(value, dict):
        return any(contains_redaction(item) for item in value.values())
    if isinstance(value, list | tuple):
        return any(contains_redaction(item) for item in value)
    return isinstance(value, str) and REDACTED in value
