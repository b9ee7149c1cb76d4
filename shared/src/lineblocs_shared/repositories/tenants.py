"""Users and workspaces."""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import Integer, bindparam
from sqlmodel import Session, col, select

from lineblocs_shared.models.tenants import User, Workspace


class Payer(NamedTuple):
    """Who pays a workspace's invoices: its creator, and their gateway customer id."""

    creator_id: int
    customer_id: str  # users.stripe_id, trimmed; '' when unset or the user is gone


class WorkspaceRepository:
    def __init__(self, *, session: Session) -> None:
        self._session = session

    def get(self, *, workspace_id: int) -> Workspace | None:
        return self._session.get(Workspace, workspace_id)

    def add(self, *, workspace: Workspace) -> Workspace:
        self._session.add(workspace)
        self._session.flush()
        return workspace

    def creator(self, *, workspace_id: int) -> User | None:
        stmt = select(User).join(Workspace, col(Workspace.creator_id) == col(User.id))
        return self._session.exec(stmt.where(col(Workspace.id) == workspace_id)).first()

    def payer(self, *, workspace_id: int) -> Payer | None:
        """Two columns in one query: `users` has ~50, and billing reads this for every bill."""
        row = self._session.execute(PAYER, {"workspace_id": workspace_id}).first()
        if row is None:
            return None
        creator_id, customer_id = row
        return Payer(creator_id=creator_id, customer_id=(customer_id or "").strip())


# Built once, as billing reads it for every bill: see `billing.DEFAULT_CARD`.
PAYER = (
    select(col(Workspace.creator_id), col(User.stripe_id))
    .outerjoin(User, col(User.id) == col(Workspace.creator_id))
    .where(col(Workspace.id) == bindparam("workspace_id", type_=Integer))
)


class UserRepository:
    def __init__(self, *, session: Session) -> None:
        self._session = session

    def get(self, *, user_id: int) -> User | None:
        return self._session.get(User, user_id)

    def add(self, *, user: User) -> User:
        self._session.add(user)
        self._session.flush()
        return user
