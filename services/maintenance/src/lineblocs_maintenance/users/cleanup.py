"""Deleting users who never set their password, `unset_password_days` after they were asked to.

The candidates are read in keyset pages; each page is examined in one transaction: the users
and the workspaces they created are locked (a money row being written for them waits, then
fails on its foreign key instead of being cascaded away), their blockers are read, and each
user with none is deleted under a savepoint — one DELETE whose cascade the database applies
whole or not at all. A user the database still refuses is kept with its error as the reason.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Engine, delete, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from lineblocs_maintenance import metrics
from lineblocs_maintenance.batches import OnBatch
from lineblocs_maintenance.users.blockers import Check, applicable_checks, blockers_of
from lineblocs_shared.db.paging import keyset_pages
from lineblocs_shared.db.uow import UnitOfWork
from lineblocs_shared.models.tenants import User, Workspace

log = logging.getLogger(__name__)

USERS = User.__table__  # type: ignore[attr-defined]
WORKSPACES = Workspace.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class UserVerdict:
    user_id: int
    deleted: bool  # or, on a dry run, would be
    reasons: tuple[str, ...] = ()  # why the user stays


@dataclass
class CleanupReport:
    cutoff: str
    dry_run: bool = False
    verdicts: list[UserVerdict] = field(default_factory=list)

    @property
    def deleted(self) -> int:  # or, on a dry run, would be
        return sum(v.deleted for v in self.verdicts)

    @property
    def kept(self) -> int:
        return len(self.verdicts) - self.deleted

    def summary(self) -> dict[str, object]:
        """The run ledger's summary (JSON): counts, and why users were kept."""
        reasons = Counter(reason for verdict in self.verdicts for reason in verdict.reasons)
        return {
            "cutoff": self.cutoff,
            "dry_run": self.dry_run,
            "deleted": self.deleted,
            "kept": self.kept,
            "kept_because": dict(reasons),
        }


def _due(cutoff: datetime) -> ColumnElement[bool]:
    return USERS.c.needs_password_set.is_(True) & (USERS.c.needs_set_password_date <= cutoff)


def cleanup_users(
    engine: Engine,
    *,
    now: datetime,
    days: int,
    batch_size: int,
    dry_run: bool = False,
    on_batch: OnBatch | None = None,
) -> CleanupReport:
    """Delete (or, dry, judge) every user past the deadline who has nothing to keep him."""
    cutoff = now - timedelta(days=days)
    report = CleanupReport(cutoff=cutoff.isoformat(), dry_run=dry_run)
    candidates = select(USERS.c.id).where(_due(cutoff))
    checks = applicable_checks(engine)
    for page in keyset_pages(engine, candidates, key=USERS.c.id, page_size=batch_size):
        ids = [row.id for row in page]
        verdicts = _judge_page(engine, ids, cutoff, checks, dry_run=dry_run)
        report.verdicts += verdicts
        deleted = sum(v.deleted for v in verdicts)
        if not dry_run:
            metrics.count_users("deleted", deleted)
            metrics.count_users("kept", len(verdicts) - deleted)
        if on_batch is not None:
            on_batch("users", len(verdicts))
    return report


def _judge_page(
    engine: Engine, ids: list[int], cutoff: datetime, checks: list[Check], *, dry_run: bool
) -> list[UserVerdict]:
    with UnitOfWork(engine) as uow:
        session = uow.session
        if not dry_run:
            # FOR UPDATE (MySQL; SQLite has one writer at a time and no such clause).
            session.execute(select(USERS.c.id).where(USERS.c.id.in_(ids)).with_for_update())
            creators = WORKSPACES.c.creator_id.in_(ids)
            session.execute(select(WORKSPACES.c.id).where(creators).with_for_update())
        blockers = blockers_of(session, ids, checks)
        verdicts = []
        for user_id in ids:
            reasons = tuple(blockers.get(user_id, ()))
            if not reasons and not dry_run:
                reasons = _delete(session, user_id, cutoff)
            verdicts.append(UserVerdict(user_id, not reasons, reasons))
        if not dry_run:
            uow.commit()
    return verdicts


def _delete(session: Session, user_id: int, cutoff: datetime) -> tuple[str, ...]:
    """One user and his cascade, all or nothing (a savepoint of the page's transaction).
    Returns why he stays: nothing when deleted."""
    try:
        with session.begin_nested():
            stmt = delete(USERS).where(USERS.c.id == user_id, _due(cutoff))
            result = session.execute(stmt)
    except (IntegrityError, OperationalError) as exc:
        log.warning("user %d kept: the database refused the delete (%s)", user_id, exc.orig)
        return ("refused by the database",)
    if not result.rowcount:  # type: ignore[attr-defined]
        return ("no longer due",)  # set a password, or was deleted, meanwhile
    return ()
