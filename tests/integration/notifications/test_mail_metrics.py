"""The notifications metrics reach the worker container's exposition: mails by kind and outcome,
provider latency by result, and a provider's circuit state. Recorded in a process of their own,
as a worker records them, against the Mailgun fake over HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from lineblocs_shared.reliability.observability.metrics import exposition
from tests.support import mailgun_fake
from tests.support.mailgun_fake import MailgunFake

pytestmark = pytest.mark.integration

WORKER_LIFE = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from lineblocs_shared.reliability.observability import metrics
    metrics.enable_metrics(Path(sys.argv[1]))

    from lineblocs_notifications import metrics as mail_metrics
    from lineblocs_notifications.delivery.email import OutgoingEmail
    from lineblocs_notifications.delivery.guard import GuardedTransport
    from lineblocs_notifications.delivery.mailgun import MailgunTransport
    from lineblocs_notifications.delivery.transport import DeliveryUnavailable
    from lineblocs_shared.site_settings.values import MailgunCredentials

    credentials = MailgunCredentials(domain=sys.argv[3], api_key=sys.argv[4])
    transport = GuardedTransport(
        MailgunTransport(credentials, api_base=sys.argv[2], timeout_s=5), failures=2, reset_s=60
    )
    mail = OutgoingEmail("a@example.test", "b@example.test", "s", "t", "<p>h</p>", "<1@x>")
    transport.send(mail)
    for _ in range(3):  # two failures open the circuit; the third never reaches Mailgun
        try:
            transport.send(mail)
        except DeliveryUnavailable:
            pass
    mail_metrics.count_mail("billing_failed", "sent")
    """
)


def test_a_workers_mail_metrics_are_exposed(mailgun: MailgunFake, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.lower().startswith("prometheus_multiproc")}
    mailgun.behaviour.accept_only = 1  # the first send goes through, then Mailgun is down
    script = [sys.executable, "-c", WORKER_LIFE, str(tmp_path), mailgun.api_base]
    subprocess.run(
        [*script, mailgun_fake.DOMAIN, mailgun_fake.KEY], env=env, check=True, timeout=60
    )

    text = exposition(tmp_path)[0].decode()
    lines = text.splitlines()
    assert 'lbj_notifications_total{kind="billing_failed",outcome="sent"} 1.0' in lines
    assert 'lbj_mail_send_seconds_count{provider="mailgun",result="accepted"} 1.0' in lines
    assert 'lbj_mail_send_seconds_count{provider="mailgun",result="error"} 2.0' in lines
    assert 'lbj_mail_send_seconds_count{provider="mailgun",result="circuit_open"} 1.0' in lines
    assert 'lbj_mail_circuit_state{provider="mailgun"} 2.0' in lines
    assert mailgun.requests == 3
