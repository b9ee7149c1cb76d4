"""`notifications list` and `notifications show ID`: the ledger, newest first (times in UTC)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select
from sqlmodel import col

from lineblocs_notifications.cli.common import notifications
from lineblocs_shared.clock import SystemClock
from lineblocs_shared.db.uow import LedgerUnit
from lineblocs_shared.errors import ConfigError
from lineblocs_shared.models.notifications import Notification, NotificationState
from lineblocs_shared.reliability.failures.operations import parse_since

STATES = ", ".join(NotificationState)
COLUMNS = ("id", "created", "kind", "state", "tries", "user", "workspace", "recipient", "note")


def list_notifications(
    kind: str | None = typer.Option(None, help="only this kind (template name)"),
    status: str | None = typer.Option(
        None, help="only this state: " + ", ".join(NotificationState)
    ),
    since: str | None = typer.Option(None, help="created since: an age (7d, 12h) or ISO date"),
    limit: int = typer.Option(50, min=1, max=10_000, help="at most this many, newest first"),
    as_json: bool = typer.Option(False, "--json", help="one JSON object per line"),
) -> None:
    """List the mails of the ledger, newest first."""
    if status is not None and status not in set(NotificationState):
        raise ConfigError(f"--status {status!r}: one of {STATES}")
    after = parse_since(since, now=SystemClock().now()) if since else None
    stmt = select(Notification).order_by(col(Notification.id).desc()).limit(limit)
    if kind:
        stmt = stmt.where(col(Notification.kind) == kind)
    if status:
        stmt = stmt.where(col(Notification.state) == status)
    if after is not None:
        stmt = stmt.where(col(Notification.created_at) >= after)
    with notifications() as deps, LedgerUnit(deps.engine) as uow:
        rows = list(uow.session.execute(stmt).scalars())
    if as_json:
        for row in rows:
            typer.echo(json.dumps(as_dict(row), default=str))
        return
    table = Table(title=f"{len(rows)} notification(s)", title_justify="left")
    for column in COLUMNS:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*_cells(row))
    Console().print(table)


def show(notification_id: int = typer.Argument(..., help="id from `notifications list`")) -> None:
    """Everything the ledger knows of one mail."""
    with notifications() as deps, LedgerUnit(deps.engine) as uow:
        row = uow.session.get(Notification, notification_id)
    if row is None:
        raise ConfigError(f"no notification {notification_id}")
    for name, value in as_dict(row).items():
        shown = json.dumps(value, indent=2) if name == "context" else value
        typer.echo(f"{name:18} {shown}")


def as_dict(row: Notification) -> dict[str, Any]:
    values = row.model_dump()
    values["context"] = json.loads(row.context or "{}")
    return values


def _cells(row: Notification) -> list[str]:
    note = row.provider_id if row.state == NotificationState.SENT else row.last_error
    return [
        str(row.id),
        _when(row.created_at),
        row.kind,
        str(row.state),
        str(row.attempts),
        str(row.user_id or "-"),
        str(row.workspace_id or "-"),
        row.recipient or "-",
        (note or "")[:80],
    ]


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S}" if moment is not None else "-"
