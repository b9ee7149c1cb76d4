"""`free_trial_expiring`, hourly, from two sources:

- subscriptions in a free trial (`is_free_trial_active = 1`) ending within FREE_TRIAL_NOTICE_DAYS
  (and not ended yet): once per subscription and trial end, to the workspace's creator;
- older users without subscription trial data, by the site's rule: `users.free_trial_started` at
  least 8 days ago and `free_trial_reminder_sent = 0`; once per user, and settling the mail sets
  the flag (`kinds/marks.py`). Only while Lineblocs has trials on (`is_trial_enabled`): every user
  row has a `free_trial_started`, and a site without trials must not tell everyone theirs ends.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import chain
from typing import Any

from sqlalchemy import Engine, Row, Table, exists, or_, select

from lineblocs_notifications.kinds.catalog import FREE_TRIAL_EXPIRING, MailRequest
from lineblocs_notifications.kinds.marks import LEGACY_TRIAL
from lineblocs_notifications.schedules import FREE_TRIAL_JOB
from lineblocs_notifications.sweeps.base import Pages, Scan, Sweep
from lineblocs_shared.db.paging import keyset_pages
from lineblocs_shared.db.types import as_utc
from lineblocs_shared.models.billing import Subscription
from lineblocs_shared.models.tenants import User, Workspace

SUBSCRIPTIONS: Table = Subscription.__table__  # type: ignore[attr-defined]
USERS: Table = User.__table__  # type: ignore[attr-defined]
WORKSPACES: Table = Workspace.__table__  # type: ignore[attr-defined]
LEGACY_NOTICE_AFTER = timedelta(days=8)


def ending_trials(engine: Engine, scan: Scan) -> Pages:
    return chain(_subscription_trials(engine, scan), _legacy_trials(engine, scan))


def _subscription_trials(engine: Engine, scan: Scan) -> Pages:
    horizon = scan.now + timedelta(days=scan.options.free_trial_notice_days)
    s = SUBSCRIPTIONS.c
    query = select(s.id, s.workspace_id, s.free_trial_end_date).where(
        s.is_free_trial_active.is_(True),
        s.free_trial_end_date > scan.now,
        s.free_trial_end_date <= horizon,
    )
    for rows in keyset_pages(engine, query, key=s.id, page_size=scan.page_size):
        yield [_subscription_notice(row, scan.now) for row in rows]


def _subscription_notice(row: Row[Any], now: datetime) -> MailRequest:
    ends = as_utc(row.free_trial_end_date)
    return MailRequest(
        kind=FREE_TRIAL_EXPIRING,
        dedupe_key=f"{FREE_TRIAL_EXPIRING.name}:subscription:{row.id}:{ends:%Y%m%d}",
        user_id=None,
        workspace_id=row.workspace_id,
        variables={
            "trial": "subscription",
            "subscription_id": row.id,
            "trial_ends": f"{ends:%Y-%m-%d}",
            "days_left": max(1, -(-(ends - now) // timedelta(days=1))),  # part of a day counts
        },
    )


def _legacy_trials(engine: Engine, scan: Scan) -> Pages:
    if not scan.site.is_trial_enabled:
        return
    u, w, s = USERS.c, WORKSPACES.c, SUBSCRIPTIONS.c
    has_subscription_trial = exists().where(
        w.creator_id == u.id,
        s.workspace_id == w.id,
        or_(s.is_free_trial_active.is_(True), s.free_trial_end_date.is_not(None)),
    )
    query = select(u.id, u.free_trial_started).where(
        u.free_trial_started <= scan.now - LEGACY_NOTICE_AFTER,
        u.free_trial_reminder_sent.is_(False),
        ~has_subscription_trial,
    )
    for rows in keyset_pages(engine, query, key=u.id, page_size=scan.page_size):
        yield [_legacy_notice(row) for row in rows]


def _legacy_notice(row: Row[Any]) -> MailRequest:
    started = as_utc(row.free_trial_started)
    return MailRequest(
        kind=FREE_TRIAL_EXPIRING,
        dedupe_key=f"{FREE_TRIAL_EXPIRING.name}:user:{row.id}",
        user_id=row.id,
        workspace_id=None,
        variables={"trial": LEGACY_TRIAL, "trial_started": f"{started:%Y-%m-%d}"},
    )


FREE_TRIAL = Sweep("free-trial", FREE_TRIAL_JOB, ending_trials)
