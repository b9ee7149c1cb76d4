"""A provider in trouble: the circuit breaker stops hammering it and lets one trial through
later; the rate limit spaces sends out. Over real HTTP to the Mailgun fake and a real SMTP
server."""

from __future__ import annotations

import ssl
import time
from pathlib import Path

import pytest

from lineblocs_notifications.delivery.email import OutgoingEmail
from lineblocs_notifications.delivery.guard import GuardedTransport
from lineblocs_notifications.delivery.mailgun import MailgunTransport
from lineblocs_notifications.delivery.smtp import SmtpTransport
from lineblocs_notifications.delivery.transport import DeliveryUnavailable, MailRefused
from lineblocs_shared.site_settings.values import MailgunCredentials, SmtpEncryption, SmtpSettings
from tests.support import mailgun_fake
from tests.support.mailgun_fake import MailgunFake
from tests.support.smtp_server import PASSWORD, USER, SmtpServer

pytestmark = pytest.mark.integration


def mail(n: int = 0, to: str = "someone@example.test") -> OutgoingEmail:
    return OutgoingEmail(
        sender="billing@example.test",
        to=to,
        subject=f"mail {n}",
        text="hello",
        html="<p>hello</p>",
        message_id=f"<{n}@notifications.lineblocs-jobs>",
    )


def guarded_mailgun(fake: MailgunFake, **guard: object) -> GuardedTransport:
    credentials = MailgunCredentials(domain=mailgun_fake.DOMAIN, api_key=mailgun_fake.KEY)
    return GuardedTransport(
        MailgunTransport(credentials, api_base=fake.api_base, timeout_s=5),
        **guard,  # type: ignore[arg-type]
    )


def test_after_repeated_failures_the_provider_is_left_alone_then_tried_once(
    mailgun: MailgunFake,
) -> None:
    transport = guarded_mailgun(mailgun, failures=3, reset_s=0.5)
    mailgun.behaviour.failing_for = 100
    for n in range(3):
        with pytest.raises(DeliveryUnavailable, match="503"):
            transport.send(mail(n))
    assert transport.circuit_state == "open"

    for n in range(10):  # fail fast: not one request reaches the provider
        with pytest.raises(DeliveryUnavailable, match="not trying"):
            transport.send(mail(n))
    assert mailgun.requests == 3

    mailgun.behaviour.failing_for = 0
    time.sleep(0.6)
    assert transport.send(mail(99)).startswith("<1.fake@")  # the trial send closes it again
    assert transport.circuit_state == "closed"
    assert mailgun.requests == 4
    transport.close()


def test_a_refused_address_does_not_count_against_the_provider(mailgun: MailgunFake) -> None:
    transport = guarded_mailgun(mailgun, failures=2, reset_s=60)
    mailgun.behaviour.refuse = {"nobody@example.test"}
    for n in range(5):
        with pytest.raises(MailRefused):
            transport.send(mail(n, to="nobody@example.test"))
    assert transport.circuit_state == "closed"
    transport.send(mail(9))
    transport.close()


def test_the_rate_limit_spaces_sends_out_and_loses_none(mailgun: MailgunFake) -> None:
    transport = guarded_mailgun(mailgun, rate="10/second")
    started = time.monotonic()
    for n in range(25):
        transport.send(mail(n))
    elapsed = time.monotonic() - started
    assert len(mailgun.received) == 25
    assert elapsed >= 1.9  # 10 at once, 10 a second later, 5 a second after that
    transport.close()


def test_a_server_answering_421_opens_the_smtp_circuit(tmp_path: Path) -> None:
    server = SmtpServer(tmp_path).start()
    try:
        settings = SmtpSettings(
            host="127.0.0.1",
            port=server.port,
            user=USER,
            password=PASSWORD,
            encryption=SmtpEncryption.TLS,
        )
        tls = ssl.create_default_context(cafile=str(server.cert_file))
        transport = GuardedTransport(
            SmtpTransport(settings, timeout_s=5, tls=tls), failures=2, reset_s=60
        )
        server.behaviour.busy_for = 10
        for n in range(2):
            with pytest.raises(DeliveryUnavailable, match="421"):
                transport.send(mail(n))
        with pytest.raises(DeliveryUnavailable, match="not trying"):
            transport.send(mail(3))
        assert server.behaviour.busy_for == 8  # the third never reached the server
        transport.close()
    finally:
        server.stop()
