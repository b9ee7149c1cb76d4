"""Unsubscribes from unsolicited kinds (`lbj_notification_optouts`): recorded once per user and
kind, whatever the number of clicks; looked up before each unsolicited mail."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, Table, insert, select
from sqlalchemy.exc import IntegrityError

from lineblocs_shared.models.notifications import NotificationOptOut

OPTOUTS: Table = NotificationOptOut.__table__  # type: ignore[attr-defined]


class OptOuts:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def has(self, user_id: int, kind: str) -> bool:
        stmt = select(OPTOUTS.c.id).where(OPTOUTS.c.user_id == user_id, OPTOUTS.c.kind == kind)
        with self._engine.connect() as conn:
            return conn.execute(stmt.limit(1)).first() is not None

    def record(self, user_id: int, kind: str, *, via: str, at: datetime) -> bool:
        """True when this is the user's first unsubscribe from `kind`."""
        row = {"user_id": user_id, "kind": kind, "via": via, "created_at": at}
        try:
            with self._engine.begin() as conn:
                conn.execute(insert(OPTOUTS).values(row))
        except IntegrityError:
            return False  # clicked before: the first click stands
        return True
