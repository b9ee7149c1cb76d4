"""`card_expiring`, daily: cards whose expiry month is this month or next (December → January
included). Once per card and expiry: a card renewed with a new expiry is a new mail.

A card stops working after the last day of its expiry month, so `days` counts from today to the
first day of the month after it (today included). Cards without an expiry (the site's normal
case), or with a month outside 1-12, are not selected. A two-digit year means 20xx.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, Row, Table, and_, case, or_, select

from lineblocs_notifications.kinds.catalog import CARD_EXPIRING, MailRequest
from lineblocs_notifications.schedules import CARDS_JOB
from lineblocs_notifications.sweeps.base import Pages, Scan, Sweep
from lineblocs_shared.cards import last_four
from lineblocs_shared.db.paging import keyset_pages
from lineblocs_shared.models.billing import Card

CARDS: Table = Card.__table__  # type: ignore[attr-defined]


def month_after(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def expiring_cards(engine: Engine, scan: Scan) -> Pages:
    this_month = (scan.now.year, scan.now.month)
    next_month = month_after(*this_month)
    year = case((CARDS.c.exp_year < 100, CARDS.c.exp_year + 2000), else_=CARDS.c.exp_year)
    query = select(
        CARDS.c.id,
        CARDS.c.workspace_id,
        CARDS.c.issuer,
        CARDS.c.last_4,
        CARDS.c.exp_month,
        year.label("exp_year"),
    ).where(
        CARDS.c.exp_month.is_not(None),
        CARDS.c.exp_year.is_not(None),
        or_(*(and_(year == y, CARDS.c.exp_month == m) for y, m in (this_month, next_month))),
    )
    for rows in keyset_pages(engine, query, key=CARDS.c.id, page_size=scan.page_size):
        yield [_notice(row, scan.now) for row in rows]


def _notice(row: Row[Any], now: datetime) -> MailRequest:
    card_id, workspace_id = row.id, row.workspace_id
    year, month = int(row.exp_year), int(row.exp_month)
    stops = date(*month_after(year, month), 1)
    return MailRequest(
        kind=CARD_EXPIRING,
        dedupe_key=f"{CARD_EXPIRING.name}:card:{card_id}:{year:04d}-{month:02d}",
        user_id=None,
        workspace_id=workspace_id,
        variables={
            "card_id": card_id,
            "card_brand": row.issuer or "",
            "ending_digits": last_four(row.last_4) or "",
            "expires": f"{month:02d}/{year:04d}",
            "days": (stops - now.date()).days,
        },
    )


CARDS_SWEEP = Sweep("cards", CARDS_JOB, expiring_cards)
