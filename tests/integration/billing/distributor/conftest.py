"""Fixtures of the distributor tests: subscriptions on MariaDB and on the embedded SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pika
import pytest
from sqlalchemy import Engine, event

from lineblocs_shared.db.uow import UnitOfWork
from lineblocs_shared.models.billing import BillingCycle, Subscription
from lineblocs_shared.models.billing_runs import BillingPeriodRecord, PeriodState
from lineblocs_shared.models.tenants import User, Workspace
from lineblocs_shared.repositories.billing import PricedPlan
from tests.factories import make_plan, make_subscription, make_user, make_workspace

# The instant the tests bill at: 2026-11-23 12:00 UTC.
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["mariadb", "sqlite"])
def billing_engine(request: pytest.FixtureRequest) -> Engine:
    """The Lineblocs tables and ours on the real MariaDB, and on the embedded SQLite database."""
    name = "jobs_engine" if request.param == "mariadb" else "sqlite_jobs_engine"
    engine: Engine = request.getfixturevalue(name)
    return engine


@dataclass
class Tenants:
    """Adds subscriptions, each in a workspace of its own, all on one plan of one user."""

    engine: Engine
    _owner: User | None = None
    _plan: PricedPlan | None = None

    def subscription(self, *, workspace_active: bool = True, **overrides: Any) -> Subscription:
        """A monthly ACTIVE subscription due on 2026-11-15 unless told otherwise."""
        values: dict[str, Any] = {
            "next_billing_date": datetime(2026, 11, 15, tzinfo=UTC),
            "billing_anchor_day": 15,
        }
        values.update(overrides)
        with UnitOfWork(self.engine) as uow:
            owner, plan = self._basics(uow)
            workspace = make_workspace(uow, creator=owner, active=workspace_active)
            subscription = make_subscription(uow, workspace=workspace, plan=plan, **values)
            uow.commit()
        return subscription

    def many(self, count: int, *, next_billing_date: datetime) -> list[Subscription]:
        """`count` due subscriptions, inserted in two batches (workspaces, then subscriptions)."""
        with UnitOfWork(self.engine) as uow:
            owner, plan = self._basics(uow)
            stamp = datetime(2026, 1, 1, tzinfo=UTC)
            workspaces = [
                Workspace(name=f"bulk-{n}", creator_id=owner.id, created_at=stamp, updated_at=stamp)
                for n in range(count)
            ]
            uow.session.add_all(workspaces)
            uow.session.flush()
            subscriptions = [
                Subscription(
                    workspace_id=workspace.id,
                    current_plan_id=plan.plan.id,
                    billing_cycle=BillingCycle.MONTHLY,
                    status="ACTIVE",
                    created_at=stamp,
                    updated_at=stamp,
                    current_period_end=next_billing_date,
                    next_billing_date=next_billing_date,
                    billing_anchor_day=next_billing_date.day,
                )
                for workspace in workspaces
            ]
            uow.session.add_all(subscriptions)
            uow.commit()
        return subscriptions

    def period_row(
        self, subscription: Subscription, *, start: datetime, end: datetime, state: PeriodState
    ) -> None:
        """What the bill handler writes for a period it has handled."""
        with UnitOfWork(self.engine) as uow:
            uow.session.add(
                BillingPeriodRecord(
                    cycle=subscription.billing_cycle.value,
                    workspace_id=subscription.workspace_id,
                    subscription_id=subscription.id,
                    period_start=start,
                    period_end=end,
                    state=state,
                )
            )
            uow.commit()

    def _basics(self, uow: UnitOfWork) -> tuple[User, PricedPlan]:
        if self._owner is None or self._plan is None:
            self._owner = make_user(uow)
            self._plan = make_plan(uow)
        return self._owner, self._plan


@pytest.fixture
def tenants(billing_engine: Engine) -> Tenants:
    return Tenants(billing_engine)


@dataclass
class StatementLog:
    """The SQL statements an engine ran while recording, whitespace-normalised."""

    statements: list[str] = field(default_factory=list)
    recording: bool = False

    @property
    def queries(self) -> list[str]:
        """Without SQLite's transaction control statements (BEGIN IMMEDIATE)."""
        return [s for s in self.statements if not s.startswith(("BEGIN", "COMMIT", "ROLLBACK"))]

    def selecting(self, table: str) -> list[str]:
        """The queries whose select list starts with a column of `table`."""
        return [s for s in self.queries if s.startswith((f"SELECT {table}.", f"SELECT `{table}`."))]


@pytest.fixture
def statements(billing_engine: Engine) -> Iterator[StatementLog]:
    log = StatementLog()

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if log.recording:
            log.statements.append(" ".join(statement.split()))

    event.listen(billing_engine, "before_cursor_execute", record)
    yield log
    event.remove(billing_engine, "before_cursor_execute", record)


def drop_queue(amqp_url: str, queue: str) -> None:
    """Delete a queue and Dramatiq's `.DQ`/`.XQ` of it, so a test starts from none."""
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        channel = connection.channel()
        for name in (queue, f"{queue}.DQ", f"{queue}.XQ"):
            channel.queue_delete(name)
    finally:
        connection.close()


def queue_depth(amqp_url: str, queue: str) -> int:
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        return int(connection.channel().queue_declare(queue, passive=True).method.message_count)
    finally:
        connection.close()


def take_all(amqp_url: str, queue: str) -> list[bytes]:
    """Every message body of the queue, in queue order; the queue is left empty."""
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    bodies: list[bytes] = []
    try:
        channel = connection.channel()
        while True:
            method, _properties, body = channel.basic_get(queue, auto_ack=True)
            if method is None:
                return bodies
            bodies.append(body)
    finally:
        connection.close()


@pytest.fixture
def billing_queue(amqp_url: str) -> Iterator[str]:
    """This session's RabbitMQ, with no `billing` queue at the start and at the end."""
    drop_queue(amqp_url, "billing")
    yield amqp_url
    drop_queue(amqp_url, "billing")
