"""Usage rows that belong to no workspace (R-USAGE-1): counted for the run report, never billed."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    Select,
    bindparam,
    func,
    or_,
    select,
)
from sqlmodel import Session

from lineblocs_billing.invoicing.usage import WORKSPACES, period_parameters, usage_in_period
from lineblocs_shared.prepaid import DEBITS, Attribution


def unattributed_of_creator(
    session: Session, scope: Attribution, *, start: datetime, end: datetime
) -> int:
    """The creator's usage rows without a workspace, left out because the creator has several
    workspaces (0 when they are attributed to this one)."""
    if scope.includes_creator_rows:
        return 0
    parameters = {"creator_id": scope.creator_id, "start": start, "end": end}
    return int(session.execute(_unattributed_of_creator_statement(), parameters).scalar_one())


@cache
def _unattributed_of_creator_statement() -> Select[Any]:
    source = func.upper(DEBITS.c.source)
    start, end = period_parameters()
    return select(func.count()).where(
        DEBITS.c.workspace_id.is_(None),
        DEBITS.c.user_id == bindparam("creator_id"),
        *usage_in_period(start=start, end=end, source=source),
    )


def unattributed_debits(session: Session, *, start: datetime, end: datetime) -> int:
    """All usage rows of a period that belong to no workspace: no workspace_id, and a user who
    did not create exactly one workspace (for the run report; one query)."""
    created = (
        select(func.count())
        .where(WORKSPACES.c.creator_id == DEBITS.c.user_id)
        .correlate(DEBITS)
        .scalar_subquery()
    )
    source = func.upper(DEBITS.c.source)
    stmt = select(func.count()).where(
        DEBITS.c.workspace_id.is_(None),
        or_(DEBITS.c.user_id.is_(None), created != 1),
        *usage_in_period(start=start, end=end, source=source),
    )
    return int(session.execute(stmt).scalar_one())
