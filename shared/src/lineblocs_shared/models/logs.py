"""Lineblocs log tables purged by the retention jobs."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field

from lineblocs_shared.models.base import LineblocsTable, timestamp_field


class DebuggerLog(LineblocsTable, table=True):
    __tablename__ = "debugger_logs"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()
    from_: str = Field(sa_column_kwargs={"name": "from"})
    to: str
    title: str
    report: str
    workspace_id: int = Field(foreign_key="workspaces.id", ondelete="CASCADE")
    api_id: str = Field(unique=True)
    level: str = "info"


class ErrorUserTrace(LineblocsTable, table=True):
    __tablename__ = "error_user_trace"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()
    message: str
    full_url: str
    workspace_id: int | None = Field(default=None, foreign_key="workspaces.id", ondelete="CASCADE")
    user_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
