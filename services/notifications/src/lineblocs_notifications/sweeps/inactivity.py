"""`inactive_user`, daily: users whose last login is at least 14 days old and who were never
reminded (the site's rule; the Go job selected and marked every user). Once per user and last
login; settling the mail sets the user's `last_login_reminded` (`kinds/marks.py`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, Table, select

from lineblocs_notifications.kinds.catalog import INACTIVE_USER, MailRequest
from lineblocs_notifications.schedules import INACTIVITY_JOB
from lineblocs_notifications.sweeps.base import Pages, Scan, Sweep
from lineblocs_shared.db.paging import keyset_pages
from lineblocs_shared.db.types import as_utc
from lineblocs_shared.models.tenants import User

USERS: Table = User.__table__  # type: ignore[attr-defined]
INACTIVE_AFTER = timedelta(days=14)


def inactive_users(engine: Engine, scan: Scan) -> Pages:
    since = scan.now - INACTIVE_AFTER
    query = select(USERS.c.id, USERS.c.last_login).where(
        USERS.c.last_login.is_not(None),
        USERS.c.last_login <= since,
        USERS.c.last_login_reminded.is_(None),
    )
    for rows in keyset_pages(engine, query, key=USERS.c.id, page_size=scan.page_size):
        yield [_reminder(row.id, as_utc(row.last_login), scan) for row in rows]


def _reminder(user_id: int, last_login: datetime, scan: Scan) -> MailRequest:
    return MailRequest(
        kind=INACTIVE_USER,
        dedupe_key=f"{INACTIVE_USER.name}:{user_id}:{last_login:%Y%m%dT%H%M%S}",
        user_id=user_id,
        workspace_id=None,
        variables={
            "last_login": f"{last_login:%Y-%m-%d}",
            "days_inactive": (scan.now - last_login).days,
        },
    )


INACTIVITY = Sweep("inactivity", INACTIVITY_JOB, inactive_users)
