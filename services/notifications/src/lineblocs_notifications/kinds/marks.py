"""What a settled mail writes back to the site's own tables, so the site (and our next sweep)
knows it was dealt with. Each runs in the ledger's transaction that settles the mail: the mark and
the ledger's final state are committed together or not at all.

Which settled states mark is the kind's choice (`MailKind.marked_when`): an inactivity reminder
to a user who muted it is dealt with as surely as a sent one; a survey is "sent" only when sent.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Table, bindparam, exists, insert, literal, select, update

from lineblocs_shared.db.types import UTCDateTime
from lineblocs_shared.models.billing import Credit
from lineblocs_shared.models.tenants import User, Workspace
from lineblocs_shared.models.usage import UsageTrigger, UsageTriggerResult

if TYPE_CHECKING:
    from lineblocs_notifications.kinds.catalog import MailRequest

USERS: Table = User.__table__  # type: ignore[attr-defined]
WORKSPACES: Table = Workspace.__table__  # type: ignore[attr-defined]
TRIGGERS: Table = UsageTrigger.__table__  # type: ignore[attr-defined]
RESULTS: Table = UsageTriggerResult.__table__  # type: ignore[attr-defined]
CREDITS: Table = Credit.__table__  # type: ignore[attr-defined]
LEGACY_TRIAL = "user"  # a free_trial_expiring mail found by the users' columns (`sweeps/trials`)


REMINDED = (
    update(USERS)
    .where(USERS.c.id == bindparam("user_id"), USERS.c.last_login_reminded.is_(None))
    .values(last_login_reminded=bindparam("now", type_=UTCDateTime))
)


def reminded_of_inactivity(conn: Connection, request: MailRequest, now: datetime) -> None:
    conn.execute(REMINDED, {"user_id": request.user_id, "now": now})


def trial_reminder_sent(conn: Connection, request: MailRequest, now: datetime) -> None:
    """The users' flag of the site's trial rule; a subscription's trial has no flag to set."""
    if request.variables.get("trial") == LEGACY_TRIAL:
        conn.execute(
            update(USERS).where(USERS.c.id == request.user_id).values(free_trial_reminder_sent=1)
        )


def survey_sent(conn: Connection, request: MailRequest, now: datetime) -> None:
    conn.execute(
        update(WORKSPACES)
        .where(WORKSPACES.c.id == request.workspace_id)
        .values(sent_satisfaction_survey=1)
    )


def usage_trigger_result(conn: Connection, request: MailRequest, now: datetime) -> None:
    """The site's record of an alert: (trigger, credit), once. Written only while the trigger and
    the credit exist (both are foreign keys the database would refuse)."""
    trigger_id = int(request.variables["usage_trigger"]["id"])
    credit_id = int(request.variables["credit_id"])
    recorded = exists().where(
        RESULTS.c.usage_trigger_id == trigger_id, RESULTS.c.credit_id == credit_id
    )
    credit_exists = exists().where(CREDITS.c.id == credit_id)
    row = select(TRIGGERS.c.id, literal(credit_id), literal(now), literal(now)).where(
        TRIGGERS.c.id == trigger_id, credit_exists, ~recorded
    )
    conn.execute(
        insert(RESULTS).from_select(
            ["usage_trigger_id", "credit_id", "created_at", "updated_at"], row
        )
    )
