"""Amounts of integer cents shown in their currency, by Babel (CLDR data), never by hand."""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_currency

LOCALE = "en"


def money(cents: int, currency: str) -> str:
    """`money(4999, "CAD")` → "CA$49.99"; a currency Babel does not know is shown by its code."""
    return format_currency(Decimal(cents) / 100, currency.upper(), locale=LOCALE)
