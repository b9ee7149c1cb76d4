"""The notifications service's part of `lineblocs-jobs demo`: billing's events and the five sweeps
become mails, written as `.eml` files by the file transport (the embedded default).

It runs after billing's step: the events billing left in its outbox are relayed to the
in-process broker, a few demo tenants are made due for each sweep (a card expiring next month,
a prepaid workspace low on credit with a usage trigger, a trial ending, a week-old workspace
and the survey switched on), one tick of each sweep is sent, and real actors on worker
threads send every mail once.
"""

from __future__ import annotations

import importlib
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, update
from sqlmodel import col

from lineblocs_notifications import bootstrap
from lineblocs_notifications.schedules import SWEEP_CONTRACTS, SweepTick
from lineblocs_notifications.settings import NotificationSettings
from lineblocs_shared.db.uow import UnitOfWork
from lineblocs_shared.demo.runner import DemoContext, Row
from lineblocs_shared.models.billing import Card, Credit, Subscription
from lineblocs_shared.models.notifications import Notification
from lineblocs_shared.models.settings_store import CustomizationsKVStore
from lineblocs_shared.models.tenants import Workspace
from lineblocs_shared.models.usage import UsageTrigger
from lineblocs_shared.queue.broker import declare_actors
from lineblocs_shared.reliability.outbox.publishers import BrokerPublisher
from lineblocs_shared.reliability.outbox.relay import OutboxRelay
from lineblocs_shared.settings import load

SURVEY: dict[str, str | bool] = {
    "customer_satisfaction_survey_enabled": True,
    "customer_satisfaction_survey_url": "https://survey.example.com/lineblocs",
}


def demo_step(ctx: DemoContext) -> None:
    folder = _mail_folder(ctx)
    options = load(NotificationSettings).model_copy(
        update={"mail_transport_override": "file", "mail_file_dir": folder}
    )
    deps = bootstrap.build(ctx.settings, engine=ctx.engine, clock=ctx.clock, options=options)
    bootstrap.install(deps)
    actors = importlib.import_module("lineblocs_notifications.actors")  # the demo's broker
    # An earlier broker of this process (tests, the demo) may have them already.
    declare_actors(ctx.broker, actors.NOTIFICATION_ACTORS)

    _make_tenants_due(ctx)
    while OutboxRelay(ctx.engine, BrokerPublisher(ctx.broker)).relay_once().published:
        pass  # billing's events, now on the notifications queue
    for contract in SWEEP_CONTRACTS.values():
        contract.send(ctx.broker, SweepTick())
    ctx.run_queued_messages()
    deps.transports.close()

    ctx.report(
        f"Notifications — mails sent once each, written as .eml files to {folder}",
        ("kind", "to", "subject", "state"),
        _mail_rows(ctx),
    )


def _mail_folder(ctx: DemoContext) -> Path:
    """Next to the demo's database; emptied of the previous run's mails."""
    database = Path(ctx.engine.url.database or "lineblocs-demo.sqlite3").resolve()
    folder = database.with_name(f"{database.stem}-mail")
    folder.mkdir(exist_ok=True)
    for old in folder.glob("*.eml"):
        old.unlink()
    return folder


def _make_tenants_due(ctx: DemoContext) -> None:
    now = ctx.clock.now()
    with UnitOfWork(ctx.engine) as uow:
        session = uow.session
        session.add_all(CustomizationsKVStore.of(key, value) for key, value in SURVEY.items())
        card = session.execute(select(Card).order_by(col(Card.id))).scalars().first()
        if card is not None:  # expires at the end of next month
            card.exp_month, card.exp_year = (now.month % 12) + 1, now.year + (now.month == 12)
        payg = ctx.dataset.workspaces.get("Umbrella Pay-go")
        if payg is not None:  # a top-up of 5.00 and a trigger at 100 %: its calls spent it
            session.add(Credit(workspace_id=payg, cents=500, balance=500, source="CARD",
                               status="APPROVED", created_at=now - timedelta(days=20)))  # fmt: skip
            session.add(UsageTrigger(workspace_id=payg, percentage=100))
        oldest = min(ctx.dataset.workspaces.values())  # a week old: due for the survey
        session.execute(
            update(Workspace)
            .where(col(Workspace.id) == oldest)
            .values(created_at=now - timedelta(days=10))
        )
        session.execute(
            update(Subscription)
            .where(col(Subscription.is_free_trial_active).is_(True))
            .values(free_trial_end_date=now + timedelta(days=2))
        )
        uow.commit()


def _mail_rows(ctx: DemoContext) -> list[Row]:
    with UnitOfWork(ctx.engine) as uow:
        found = uow.session.execute(select(Notification).order_by(col(Notification.id)))
        return [
            (n.kind, n.recipient or "-", (n.subject or "-")[:48], n.state) for n in found.scalars()
        ]
