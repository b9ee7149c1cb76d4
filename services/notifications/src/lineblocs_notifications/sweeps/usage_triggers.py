"""`usage_trigger`, every 15 minutes: a workspace whose prepaid balance (Σ APPROVED credits -
Σ debits, attributed as billing attributes them) is at or below `percentage` % of its latest
APPROVED credit. Once per trigger and credit: a top-up is a new credit, so the trigger can fire
again. Settling the mail records (trigger, credit) in `usage_triggers_results`, as the site does
(`kinds/marks.py`), and a pair the site already recorded is never mailed again.

The comparison is exact in integer cents: balance * 100 <= credit * percentage. Triggers of no
workspace, or with a percentage outside 0-100, are not selected; a workspace without an APPROVED
credit has nothing to compare with.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, Row, Select, Table, func, select

from lineblocs_notifications.compose.money import money
from lineblocs_notifications.kinds.catalog import USAGE_TRIGGER, MailRequest
from lineblocs_notifications.schedules import USAGE_TRIGGERS_JOB
from lineblocs_notifications.sweeps.base import Pages, Scan, Sweep
from lineblocs_shared.db.paging import keyset_pages
from lineblocs_shared.db.types import round_half_up
from lineblocs_shared.models.tenants import Workspace
from lineblocs_shared.models.usage import UsageTrigger, UsageTriggerResult
from lineblocs_shared.prepaid import Attribution, balance_before, latest_approved_credit

TRIGGERS: Table = UsageTrigger.__table__  # type: ignore[attr-defined]
RESULTS: Table = UsageTriggerResult.__table__  # type: ignore[attr-defined]
WORKSPACES: Table = Workspace.__table__  # type: ignore[attr-defined]


def _triggers() -> Select[Any]:
    t, w = TRIGGERS.c, WORKSPACES.c
    others = WORKSPACES.alias("created")  # the creator's workspaces, this one included
    created = select(func.count()).where(others.c.creator_id == w.creator_id)
    return (
        select(
            t.id,
            t.percentage,
            t.workspace_id,
            w.creator_id,
            created.scalar_subquery().label("creator_workspaces"),
        )
        .join_from(TRIGGERS, WORKSPACES, w.id == t.workspace_id)
        .where(t.percentage >= 0, t.percentage <= 100)
    )


def reached_triggers(engine: Engine, scan: Scan) -> Pages:
    query = _triggers()
    for rows in keyset_pages(engine, query, key=TRIGGERS.c.id, page_size=scan.page_size):
        with engine.connect() as conn:
            reached = _reached(conn, rows, scan)
        yield reached  # never across a yield: the caller's own queries would wait for it


def _reached(conn: Connection, rows: Sequence[Row[Any]], scan: Scan) -> list[MailRequest]:
    recorded = _recorded_pairs(conn, [row.id for row in rows])
    standing: dict[int, tuple[int, int, int] | None] = {}  # workspace → (credit, cents, balance)
    due = []
    for row in rows:
        if row.workspace_id not in standing:
            standing[row.workspace_id] = _standing(conn, row, scan)
        found = standing[row.workspace_id]
        if found is None or (row.id, found[0]) in recorded:
            continue
        credit_id, credit_cents, balance = found
        if balance * 100 <= credit_cents * row.percentage:
            due.append(_alert(row, credit_id, credit_cents, balance, scan))
    return due


def _standing(conn: Connection, row: Row[Any], scan: Scan) -> tuple[int, int, int] | None:
    scope = Attribution(row.workspace_id, row.creator_id, int(row.creator_workspaces))
    latest = latest_approved_credit(conn, scope)
    if latest is None:
        return None
    return (*latest, balance_before(conn, scope, before=scan.now))


def _recorded_pairs(conn: Connection, trigger_ids: list[int]) -> set[tuple[int, int]]:
    r = RESULTS.c
    stmt = select(r.usage_trigger_id, r.credit_id).where(r.usage_trigger_id.in_(trigger_ids))
    return {(int(a), int(b)) for a, b in conn.execute(stmt)}


def _alert(row: Row[Any], credit_id: int, credit: int, balance: int, scan: Scan) -> MailRequest:
    currency = scan.site.default_currency
    threshold = round_half_up(Decimal(credit * row.percentage) / 100)
    return MailRequest(
        kind=USAGE_TRIGGER,
        dedupe_key=f"{USAGE_TRIGGER.name}:{row.id}:credit:{credit_id}",
        user_id=None,
        workspace_id=row.workspace_id,
        variables={
            "usage_trigger": {"id": row.id, "percentage": row.percentage},
            "credit_id": credit_id,
            "balance": money(balance, currency),
            "credit_amount": money(credit, currency),
            "threshold": money(threshold, currency),
        },
    )


USAGE_TRIGGERS = Sweep("usage-triggers", USAGE_TRIGGERS_JOB, reached_triggers)
