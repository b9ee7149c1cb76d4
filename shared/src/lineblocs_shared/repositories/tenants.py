"""Users and workspaces."""

from __future__ import annotations

from sqlmodel import Session, col, select

from lineblocs_shared.models.tenants import User, Workspace


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


class UserRepository:
    def __init__(self, *, session: Session) -> None:
        self._session = session

    def get(self, *, user_id: int) -> User | None:
        return self._session.get(User, user_id)

    def add(self, *, user: User) -> User:
        self._session.add(user)
        self._session.flush()
        return user
