"""What of a card may travel: its last four digits, nothing more."""

from __future__ import annotations


def last_four(last_4: str | None) -> str | None:
    """At most the last four digits of what `users_cards.last_4` holds: a whole card number
    stored there by mistake must not reach an event or a mail. None when it holds no digit."""
    digits = "".join(ch for ch in last_4 or "" if ch in "0123456789")
    return digits[-4:] or None
