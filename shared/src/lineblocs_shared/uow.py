"""Unit of work: one session, one transaction, the repositories bound to it."""

from __future__ import annotations

from types import TracebackType

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


class UnitOfWork:
    """`with UnitOfWork(engine) as uow: …; uow.commit()` — leaving without commit rolls back."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def __enter__(self) -> UnitOfWork:
        self.session = Session(self._engine, expire_on_commit=False)
        session = self.session
        self.users = UserRepository(session=session)
        self.workspaces = WorkspaceRepository(session=session)
        self.plans = ServicePlanRepository(session=session, probe=probe_schema(self._engine))
        self.subscriptions = SubscriptionRepository(session=session)
        self.invoices = InvoiceRepository(session=session)
        self.debits = DebitRepository(session=session)
        self.cards = CardRepository(session=session)
        self.retention = RetentionRepository(session=session)
        self.job_runs = JobRunRepository(session=session)
        return self

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
        # close() rolls back what was not committed, without expiring loaded objects.
        self.session.close()
