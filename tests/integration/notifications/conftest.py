"""Fixtures of the notifications tests: a Lineblocs database with a tenant, the mail settings
the site keeps in its KV stores, a real SMTP server and a Mailgun fake over HTTP."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, delete, select
from sqlmodel import Session, col

from lineblocs_notifications import bootstrap, handlers
from lineblocs_notifications.bootstrap import Notifications
from lineblocs_notifications.schedules import SEND_NOTIFICATION
from lineblocs_notifications.settings import NotificationSettings
from lineblocs_notifications.sweeps.base import Sweep
from lineblocs_shared.clock import FixedClock
from lineblocs_shared.contracts import PaymentFailed
from lineblocs_shared.db.uow import LedgerUnit, UnitOfWork
from lineblocs_shared.models.billing import Invoice
from lineblocs_shared.models.notifications import Notification, NotificationState
from lineblocs_shared.models.settings_store import ApiCredentialsKVStore, CustomizationsKVStore
from lineblocs_shared.queue.bulk import RecordingMessagePublisher
from lineblocs_shared.reliability.periodic.jobs import Trigger
from lineblocs_shared.settings import load_settings
from tests.factories import make_user, make_workspace, whole_seconds
from tests.support import mailgun_fake
from tests.support.mailgun_fake import MailgunFake
from tests.support.smtp_server import PASSWORD, USER, SmtpServer

NOW = whole_seconds()


@dataclass(frozen=True)
class Tenant:
    user_id: int
    workspace_id: int
    invoice_id: int
    email: str


def make_tenant(engine: Engine, **user: Any) -> Tenant:
    with UnitOfWork(engine) as uow:
        creator = make_user(uow, first_name="Ada", **user)
        workspace = make_workspace(uow, creator=creator, name="Acme <Sales>")
        invoice = Invoice(
            user_id=creator.id,
            workspace_id=workspace.id,
            cents=2499,
            cents_taxes=0,
            cents_including_taxes=2499,
            tax_metadata="{}",
            source="SUBSCRIPTION",
            status="PAID",
            invoice_no="M-7-20261101",
        )
        uow.session.add(invoice)
        uow.session.flush()
        tenant = Tenant(creator.id, workspace.id, invoice.id, creator.email)  # type: ignore[arg-type]
        uow.commit()
    return tenant


def put_settings(
    engine: Engine, *, customizations: dict[str, Any], credentials: dict[str, Any]
) -> None:
    """Set these keys in the site's KV stores (replacing what they held), as its admin UI does."""
    with Session(engine) as session:
        for store, values in (
            (CustomizationsKVStore, customizations),
            (ApiCredentialsKVStore, credentials),
        ):
            for key, value in values.items():
                session.execute(delete(store).where(col(store.key) == key))
                session.add(store.of(key, value))
        session.commit()


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[SmtpServer]:
    server = SmtpServer(tmp_path).start()
    yield server
    server.stop()


@pytest.fixture
def mailgun() -> Iterator[MailgunFake]:
    fake = MailgunFake().start()
    yield fake
    fake.stop()


def smtp_settings(server: SmtpServer, **changes: Any) -> dict[str, Any]:
    return {
        "smtp_host": "127.0.0.1",
        "smtp_port": server.port,
        "smtp_user": USER,
        "smtp_password": PASSWORD,
        "smtp_tls": "ssl" if server.implicit_tls else "tls",
        **changes,
    }


MakeDeps = Callable[..., Notifications]


@pytest.fixture
def make_deps(jobs_engine: Engine, tmp_path: Path) -> Iterator[MakeDeps]:
    """Notifications dependencies on the test database, with options of the test's choosing."""
    built: list[Notifications] = []

    def make(**options: Any) -> Notifications:
        settings = load_settings(
            database_url=jobs_engine.url.render_as_string(hide_password=False),
            queue_url="amqp://guest:guest@127.0.0.1:5672/%2F",
            lineblocs_settings_ttl_s=0,
        )
        defaults = {"mail_file_dir": tmp_path / "mail"}
        deps = bootstrap.build(
            settings,
            engine=jobs_engine,
            clock=FixedClock(NOW),
            options=NotificationSettings(**(defaults | options)),
        )
        built.append(deps)
        return deps

    yield make
    for deps in built:
        deps.transports.close()


@pytest.fixture
def smtp_deps(jobs_engine: Engine, smtp: SmtpServer, make_deps: MakeDeps) -> Notifications:
    put_settings(
        jobs_engine,
        customizations={"mail_provider": "smtp-gateway"},
        credentials=smtp_settings(smtp),
    )
    return make_deps(mail_tls_ca_file=str(smtp.cert_file))


@pytest.fixture
def mailgun_deps(jobs_engine: Engine, mailgun: MailgunFake, make_deps: MakeDeps) -> Notifications:
    put_settings(
        jobs_engine,
        customizations={"mail_provider": "mailgun", "contact_email": "billing@example.test"},
        credentials={"mailgun_domain": mailgun_fake.DOMAIN, "mailgun_api_key": mailgun_fake.KEY},
    )
    return make_deps(mailgun_api_base=mailgun.api_base)


@dataclass(frozen=True)
class Delivered:
    dedupe_key: str
    state: NotificationState


def sweep_and_deliver(
    deps: Notifications, sweep: Sweep, *, now: datetime, copies: int = 1
) -> list[Delivered]:
    """Run `sweep` at `now` as a manual run, then handle each message it published as the
    `send_notification` actor would (each published message `copies` times)."""
    publisher = RecordingMessagePublisher()
    report = handlers.sweep(
        deps, sweep, publisher, trigger=Trigger(message_id=uuid.uuid4().hex), now=now
    )
    assert report is not None
    assert report.enqueued == len(publisher.published)
    delivered = []
    for message in publisher.published * copies:
        payload = SEND_NOTIFICATION.parse(message.kwargs)
        state = handlers.send_notification(deps, payload, message_id=message.message_id)
        delivered.append(Delivered(payload.dedupe_key, state))
    return delivered


def ledger_rows(engine: Engine) -> list[Notification]:
    with LedgerUnit(engine) as uow:
        return list(uow.session.execute(select(Notification).order_by(Notification.id)).scalars())


def failed(tenant: Tenant, **changes: object) -> PaymentFailed:
    fields = {
        "workspace_id": tenant.workspace_id,
        "subscription_id": 31,
        "creator_id": tenant.user_id,
        "invoice_id": tenant.invoice_id,
        "reason": "card_declined",
        "card_brand": "visa",
        "card_last_4": "4242",
        "attempt": 1,
        "amount_cents": 2499,
        "currency": "CAD",
    }
    return PaymentFailed.model_validate(fields | changes)
