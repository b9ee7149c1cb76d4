"""Unit of work: one session, one transaction, the repositories bound to it."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy import Engine
from sqlmodel import Session

from lineblocs_shared.db.probe import probe_schema
from lineblocs_shared.repositories import (
    CardRepository,
    DebitRepository,
    InvoiceRepository,
    RetentionRepository,
    ServicePlanRepository,
    SubscriptionRepository,
    UserRepository,
    WorkspaceRepository,
)
from lineblocs_shared.repositories.jobs import JobRunRepository


class SessionUnit:
    """One session, one transaction: `with Unit(engine) as uow: …; uow.commit()`.

    Leaving without commit rolls back; close() does it without expiring loaded objects, so
    what a unit returned stays readable after it ends.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def __enter__(self) -> Self:
        self.session = Session(self._engine, expire_on_commit=False)
        self._bind_repositories(self.session)
        return self

    def _bind_repositories(self, session: Session) -> None:
        raise NotImplementedError

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.session.close()


class UnitOfWork(SessionUnit):
    """The Lineblocs tables and our ledger."""

    def _bind_repositories(self, session: Session) -> None:
        self.users = UserRepository(session=session)
        self.workspaces = WorkspaceRepository(session=session)
        self.plans = ServicePlanRepository(session=session, probe=probe_schema(self._engine))
        self.subscriptions = SubscriptionRepository(session=session)
        self.invoices = InvoiceRepository(session=session)
        self.debits = DebitRepository(session=session)
        self.cards = CardRepository(session=session)
        self.retention = RetentionRepository(session=session)
        self.job_runs = JobRunRepository(session=session)


class LedgerUnit(SessionUnit):
    """Our ledger alone: unlike `UnitOfWork`, it needs no Lineblocs table (schedulers, CLI)."""

    def _bind_repositories(self, session: Session) -> None:
        self.job_runs = JobRunRepository(session=session)
