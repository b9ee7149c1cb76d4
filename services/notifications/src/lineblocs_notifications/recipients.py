"""Who a mail goes to, read when it is sent: the user, their address, the categories they muted.

Mute columns missing on an older database mean "not muted" (the site's default). A user or
workspace that no longer exists, or a user without an address, is nobody to send to.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Connection, Engine, Select, Table, bindparam, select

from lineblocs_notifications.kinds.catalog import Category
from lineblocs_shared.db.probe import probe_schema
from lineblocs_shared.models.tenants import User, Workspace

USERS: Table = User.__table__  # type: ignore[attr-defined]
WORKSPACES: Table = Workspace.__table__  # type: ignore[attr-defined]
USER_COLUMNS = ("id", "email", "username", "first_name", "last_name")


@dataclass(frozen=True)
class Recipient:
    user_id: int
    email: str
    username: str
    first_name: str
    last_name: str
    muted: frozenset[Category]

    def variables(self) -> dict[str, Any]:
        """What templates see of the user (`user.first_name`…)."""
        return {
            "id": self.user_id,
            "username": self.username,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "email": self.email,
        }


@dataclass(frozen=True)
class WorkspaceInfo:
    id: int
    name: str
    creator_id: int

    def variables(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name}


def read_user(conn: Connection, engine: Engine, user_id: int) -> Recipient | None:
    """The user with an address, or None (gone, or no address)."""
    present = probe_schema(engine).columns.get("users", frozenset())
    mutes = tuple(
        (c, f"email_mute_{c.value}") for c in Category if f"email_mute_{c.value}" in present
    )
    row = conn.execute(_user_query(mutes), {"user_id": user_id}).first()
    if row is None or not (row.email or "").strip():
        return None
    values = row._mapping
    return Recipient(
        user_id=row.id,
        email=row.email.strip(),
        username=row.username or "",
        first_name=row.first_name or "",
        last_name=row.last_name or "",
        muted=frozenset(category for category, column in mutes if not values[column]),
    )


@cache
def _user_query(mutes: tuple[tuple[Category, str], ...]) -> Select[Any]:
    """Built once per set of mute columns the database has."""
    columns = [USERS.c[name] for name in USER_COLUMNS] + [USERS.c[c] for _, c in mutes]
    return select(*columns).where(USERS.c.id == bindparam("user_id"))


WORKSPACE_QUERY = select(WORKSPACES.c.id, WORKSPACES.c.name, WORKSPACES.c.creator_id).where(
    WORKSPACES.c.id == bindparam("workspace_id")
)


def read_workspace(conn: Connection, workspace_id: int) -> WorkspaceInfo | None:
    row = conn.execute(WORKSPACE_QUERY, {"workspace_id": workspace_id}).first()
    return None if row is None else WorkspaceInfo(row.id, row.name, row.creator_id)
