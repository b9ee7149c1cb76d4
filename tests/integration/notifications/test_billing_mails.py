"""Billing's events become mails, each sent once, over a real SMTP server or Mailgun's API.

The handlers run as the actors call them; the database is the real MariaDB, the SMTP server a
real one (STARTTLS + AUTH, or implicit TLS), Mailgun a fake over HTTP.
"""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select, update

from lineblocs_notifications import handlers
from lineblocs_notifications.bootstrap import Notifications
from lineblocs_notifications.delivery.transport import DeliveryMisconfigured, DeliveryUnavailable
from lineblocs_notifications.ledger import Busy
from lineblocs_shared.contracts import PaymentReceipt, WorkspaceSuspended
from lineblocs_shared.db.uow import LedgerUnit
from lineblocs_shared.models.notifications import Notification, NotificationState
from lineblocs_shared.models.tenants import User
from tests.integration.notifications.conftest import (
    NOW,
    MakeDeps,
    Tenant,
    failed,
    make_tenant,
    put_settings,
    smtp_settings,
)
from tests.support.mailgun_fake import MailgunFake
from tests.support.smtp_server import SmtpServer

pytestmark = pytest.mark.integration


def receipt(tenant: Tenant) -> PaymentReceipt:
    return PaymentReceipt(
        workspace_id=tenant.workspace_id,
        subscription_id=31,
        creator_id=tenant.user_id,
        invoice_id=tenant.invoice_id,
        amount_cents=2499,
        currency="CAD",
        paid_at=NOW,
        source="CARD",
    )


def rows(engine: Engine) -> list[Notification]:
    with LedgerUnit(engine) as uow:
        return list(uow.session.execute(select(Notification).order_by(Notification.id)).scalars())


def send_failed(deps: Notifications, tenant: Tenant, event_id: str = "ev-1") -> NotificationState:
    return handlers.payment_failed(deps, failed(tenant), event_id=event_id, message_id="m-1")


def test_a_failed_payment_reaches_the_creator_over_smtp_with_starttls_and_auth(
    jobs_engine: Engine, smtp: SmtpServer, smtp_deps: Notifications
) -> None:
    tenant = make_tenant(jobs_engine)
    assert send_failed(smtp_deps, tenant) is NotificationState.SENT

    [mail] = smtp.messages
    assert mail["To"] == tenant.email
    assert mail["From"] == "mailer@example.test"
    assert mail["Subject"] == "Your payment for Acme <Sales> failed"
    [row] = rows(jobs_engine)
    assert mail["Message-ID"] == row.message_id
    text, html = (
        part.get_payload(decode=True).decode() for part in mail.walk() if not part.is_multipart()
    )
    for body in (text, html):
        assert "CA$24.99" in body
        assert "your card was declined" in body
        assert "visa card ending in 4242" in body
        assert "Hello Ada," in body
    assert "Acme &lt;Sales&gt;" in html  # escaped in HTML
    assert "<Sales>" not in html
    assert "Acme <Sales>" in text
    assert (row.state, row.provider, row.recipient) == ("sent", "smtp", tenant.email)
    assert row.provider_id.startswith("2.0.0 Ok: queued as")
    assert json.loads(row.context)["card_last_4"] == "4242"


def test_the_same_event_delivered_again_sends_nothing_more(
    jobs_engine: Engine, smtp: SmtpServer, smtp_deps: Notifications
) -> None:
    tenant = make_tenant(jobs_engine)
    assert send_failed(smtp_deps, tenant) is NotificationState.SENT
    assert send_failed(smtp_deps, tenant) is NotificationState.SENT  # what it already was
    assert send_failed(smtp_deps, tenant, event_id="ev-2") is NotificationState.SENT  # a new try
    assert len(smtp.messages) == 2
    assert smtp.behaviour.logins == 1  # one connection for both mails


def test_two_deliveries_at_once_send_one_mail(
    jobs_engine: Engine, smtp: SmtpServer, smtp_deps: Notifications
) -> None:
    tenant = make_tenant(jobs_engine)
    start = threading.Barrier(4)
    outcomes: list[object] = []

    def deliver() -> None:
        start.wait()
        try:
            outcomes.append(send_failed(smtp_deps, tenant))
        except Busy as busy:
            outcomes.append(busy)  # the message comes back later, and finds it sent

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(smtp.messages) == 1
    assert len(outcomes) == 4
    assert NotificationState.SENT in outcomes


def test_a_muted_category_is_suppressed_and_nothing_is_sent(
    jobs_engine: Engine, smtp: SmtpServer, smtp_deps: Notifications
) -> None:
    tenant = make_tenant(jobs_engine, email_mute_account_changes=False)
    assert send_failed(smtp_deps, tenant) is NotificationState.SUPPRESSED
    suspended = WorkspaceSuspended(
        workspace_id=tenant.workspace_id,
        creator_id=tenant.user_id,
        invoice_id=tenant.invoice_id,
        suspension_id=5,
        suspended_at=NOW,
    )
    # Another category: not muted.
    assert handlers.workspace_suspended(smtp_deps, suspended, message_id="m") is (
        NotificationState.SENT
    )
    [mail] = smtp.messages
    assert mail["Subject"] == "Acme <Sales> has been suspended"
    assert [r.state for r in rows(jobs_engine)] == ["suppressed", "sent"]


def test_an_unknown_workspace_or_a_user_without_address_is_skipped(
    jobs_engine: Engine, smtp: SmtpServer, smtp_deps: Notifications
) -> None:
    tenant = make_tenant(jobs_engine)
    gone = failed(tenant, workspace_id=999_999)
    outcome = handlers.payment_failed(smtp_deps, gone, event_id="gone", message_id="m")
    assert outcome is NotificationState.SKIPPED
    with LedgerUnit(jobs_engine) as uow:
        uow.session.execute(update(User).where(User.id == tenant.user_id).values(email=" "))
        uow.commit()
    assert send_failed(smtp_deps, tenant) is NotificationState.SKIPPED
    assert smtp.messages == []
    assert [r.last_error for r in rows(jobs_engine)] == [
        "workspace 999999 does not exist",
        f"user {tenant.user_id} does not exist or has no address",
    ]


def test_a_receipt_names_the_invoice_and_is_sent_once_per_invoice(
    jobs_engine: Engine, smtp: SmtpServer, smtp_deps: Notifications
) -> None:
    tenant = make_tenant(jobs_engine)
    for message_id in ("m-1", "m-2"):  # the outbox published it twice
        handlers.payment_receipt(smtp_deps, receipt(tenant), message_id=message_id)
    [mail] = smtp.messages
    assert mail["Subject"] == "Receipt for Acme <Sales>: CA$24.99"
    assert "M-7-20261101" in mail.as_string()


def test_implicit_tls_works_and_bad_credentials_are_fatal_with_a_clear_message(
    jobs_engine: Engine, tmp_path: object, make_deps: MakeDeps
) -> None:
    server = SmtpServer(tmp_path, implicit_tls=True).start()  # type: ignore[arg-type]
    try:
        put_settings(
            jobs_engine,
            customizations={"mail_provider": "smtp-gateway"},
            credentials=smtp_settings(server, smtp_password="wrong-password"),
        )
        deps = make_deps(mail_tls_ca_file=str(server.cert_file))
        tenant = make_tenant(jobs_engine)
        with pytest.raises(DeliveryMisconfigured) as refused:
            send_failed(deps, tenant)
        assert "refused the login of 'mailer@example.test'" in str(refused.value)
        assert "wrong-password" not in str(refused.value)
        [row] = rows(jobs_engine)
        assert row.state == "pending"  # released: a replay after the fix sends it
    finally:
        server.stop()


def test_a_refused_address_is_failed_without_retry_and_the_next_mail_goes_through(
    jobs_engine: Engine, smtp: SmtpServer, smtp_deps: Notifications
) -> None:
    refused, fine = make_tenant(jobs_engine), make_tenant(jobs_engine)
    smtp.behaviour.refuse_recipients.add(refused.email)
    assert send_failed(smtp_deps, refused) is NotificationState.FAILED
    assert send_failed(smtp_deps, fine, event_id="ev-fine") is NotificationState.SENT
    assert [r.state for r in rows(jobs_engine)] == ["failed", "sent"]
    assert "550" in (rows(jobs_engine)[0].last_error or "")


def test_a_busy_server_is_transient_and_the_retry_sends_the_mail_once(
    jobs_engine: Engine, smtp: SmtpServer, smtp_deps: Notifications
) -> None:
    tenant = make_tenant(jobs_engine)
    smtp.behaviour.busy_for = 2
    for _ in range(2):
        with pytest.raises(DeliveryUnavailable):
            send_failed(smtp_deps, tenant)
    assert send_failed(smtp_deps, tenant) is NotificationState.SENT
    [row] = rows(jobs_engine)
    assert (row.attempts, len(smtp.messages)) == (3, 1)


def test_a_delivery_that_died_holding_the_mail_is_taken_over_after_its_lease(
    jobs_engine: Engine, smtp: SmtpServer, smtp_deps: Notifications
) -> None:
    tenant = make_tenant(jobs_engine)
    request_row = handlers.billing_events.failed_payment(
        failed(tenant), event_id="ev-dead", message_id="m"
    )
    smtp_deps.ledger.claim(request_row)  # claimed, then the worker was killed
    with pytest.raises(Busy):
        handlers.payment_failed(smtp_deps, failed(tenant), event_id="ev-dead", message_id="m")
    smtp_deps.clock.at = NOW + timedelta(seconds=smtp_deps.options.notification_lease_s + 1)  # type: ignore[attr-defined]
    outcome = handlers.payment_failed(smtp_deps, failed(tenant), event_id="ev-dead", message_id="m")
    assert outcome is NotificationState.SENT
    assert len(smtp.messages) == 1


def test_mailgun_delivers_the_same_mime_and_recovers_from_an_outage(
    jobs_engine: Engine, mailgun: MailgunFake, mailgun_deps: Notifications
) -> None:
    tenant = make_tenant(jobs_engine)
    mailgun.behaviour.failing_for = 1
    with pytest.raises(DeliveryUnavailable):
        send_failed(mailgun_deps, tenant)
    assert send_failed(mailgun_deps, tenant) is NotificationState.SENT

    [(to, mail)] = mailgun.received
    [row] = rows(jobs_engine)
    assert to == tenant.email
    assert (mail["Message-ID"], mail["From"]) == (row.message_id, "billing@example.test")
    assert (row.provider, row.provider_id) == ("mailgun", "<1.fake@mg.example.test>")


def test_mailgun_refusing_the_key_is_fatal_and_an_address_is_a_failed_mail(
    jobs_engine: Engine, mailgun: MailgunFake, make_deps: MakeDeps
) -> None:
    put_settings(
        jobs_engine,
        customizations={"mail_provider": "mailgun", "contact_email": "billing@example.test"},
        credentials={"mailgun_domain": "mg.example.test", "mailgun_api_key": "key-wrong"},
    )
    tenant = make_tenant(jobs_engine)
    with pytest.raises(DeliveryMisconfigured, match="refused the API key"):
        send_failed(make_deps(mailgun_api_base=mailgun.api_base), tenant)
