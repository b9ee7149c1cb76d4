"""The notifications service as it runs: `lineblocs-jobs worker notifications` processes on the
real RabbitMQ, a real SMTP server, Sentry to a local capture endpoint.

- A worker SIGKILLed after the SMTP server accepted a mail and before the ledger recorded it:
  once the lease has run out the redelivered message sends it again — one duplicate, with the
  same Message-ID — and never a third time.
- Two schedulers sending the same sweep tick, and an operator's manual run beside them: each mail
  once.
- Bad input: a garbled event and a mail whose template cannot be filled are dead letters with
  one alert each; an unknown workspace is a SKIPPED row; the worker goes on; a dead letter
  replayed after the fix sends its mail once.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from datetime import timedelta
from email.message import Message as Mail
from pathlib import Path

import pendulum
import pytest
from sqlalchemy import Engine, select, text, update

from lineblocs_notifications.schedules import SEND_NOTIFICATION, SWEEP_CONTRACTS, SweepTick
from lineblocs_notifications.schedules import SendNotification as Send
from lineblocs_shared.contracts import PAYMENT_FAILED, Message
from lineblocs_shared.db.uow import LedgerUnit, UnitOfWork
from lineblocs_shared.models.jobs import DeadLetter, JobRun
from lineblocs_shared.models.notifications import Notification
from tests.factories import make_user
from tests.integration.notifications.conftest import (
    NOW,
    failed,
    ledger_rows,
    make_tenant,
    put_settings,
    smtp_settings,
)
from tests.support.cli import CLI
from tests.support.live_worker import RunningWorker, publish, running_worker
from tests.support.sentry_capture import SentryCapture
from tests.support.smtp_server import PASSWORD, SmtpServer

pytestmark = pytest.mark.integration
QUEUE = "notifications"


@pytest.fixture
def site(jobs_engine: Engine, smtp: SmtpServer) -> None:
    put_settings(
        jobs_engine,
        customizations={"mail_provider": "smtp-gateway"},
        credentials=smtp_settings(smtp),
    )


@pytest.fixture
def worker(
    jobs_engine: Engine,
    fresh_amqp_url: str,
    sentry: SentryCapture,
    smtp: SmtpServer,
    tmp_path: Path,
    site: None,
) -> Iterator[RunningWorker]:
    with start(jobs_engine, fresh_amqp_url, sentry, smtp, tmp_path, "first") as running:
        yield running


def start(
    engine: Engine, amqp: str, sentry: SentryCapture, smtp: SmtpServer, folder: Path, name: str
) -> AbstractContextManager[RunningWorker]:
    logs = folder / name
    logs.mkdir()
    env = {"MAIL_TLS_CA_FILE": str(smtp.cert_file), "LINEBLOCS_SETTINGS_TTL_S": "0"}
    return running_worker(QUEUE, engine, amqp, sentry, logs, extra_env=env)


def send(amqp_url: str, message: Message) -> None:
    publish(amqp_url, QUEUE, json.dumps(message.asdict()).encode())


def rows_in(engine: Engine, state: str) -> list[Notification]:
    return [row for row in ledger_rows(engine) if row.state == state]


def test_a_worker_killed_between_acceptance_and_record_sends_one_duplicate_never_two(
    jobs_engine: Engine,
    fresh_amqp_url: str,
    sentry: SentryCapture,
    smtp: SmtpServer,
    tmp_path: Path,
    site: None,
) -> None:
    tenant = make_tenant(jobs_engine)
    event = PAYMENT_FAILED.message(failed(tenant), event_id="failed-7-1")
    locked = threading.Event()
    holder = jobs_engine.connect()
    transaction = holder.begin()

    def hold_the_ledger_row(_mail: Mail) -> None:
        # The worker's record of the mail will wait behind this lock: the kill lands there.
        holder.execute(text("SELECT id FROM lbj_notifications FOR UPDATE"))
        locked.set()

    smtp.behaviour.before_accepting = hold_the_ledger_row
    first = start(jobs_engine, fresh_amqp_url, sentry, smtp, tmp_path, "first")
    with first as worker:
        send(fresh_amqp_url, event)
        assert locked.wait(60), worker.output()[-2000:]
        time.sleep(1.0)  # the 250 went out; the worker now waits on the row lock
        worker.kill()
    transaction.rollback()
    holder.close()
    smtp.behaviour.before_accepting = None

    [row] = ledger_rows(jobs_engine)
    assert (row.state, row.attempts, len(smtp.messages)) == ("sending", 1, 1)
    # The lease runs out (5 minutes by default): what a redelivery meets afterwards.
    with jobs_engine.begin() as conn:
        conn.execute(
            update(Notification.__table__).values(lease_until=row.updated_at - timedelta(1))  # type: ignore[attr-defined]
        )
    second = start(jobs_engine, fresh_amqp_url, sentry, smtp, tmp_path, "second")
    with second as worker:
        worker.wait_until("the mail recorded", lambda: rows_in(jobs_engine, "sent"))
        send(fresh_amqp_url, event)  # delivered once more: finds it sent
        worker.wait_until("the copy handled", lambda: "already sent" in worker.output())

    [row] = ledger_rows(jobs_engine)
    assert (row.state, row.attempts) == ("sent", 2)
    assert len(smtp.messages) == 2  # the one duplicate the window allows
    assert {mail["Message-ID"] for mail in smtp.messages} == {row.message_id}


def test_two_schedulers_and_a_manual_run_send_each_mail_once(
    jobs_engine: Engine, fresh_amqp_url: str, smtp: SmtpServer, worker: RunningWorker
) -> None:
    with UnitOfWork(jobs_engine) as uow:
        for _ in range(5):
            make_user(uow, last_login=NOW - timedelta(days=30))
        uow.commit()
    tick = str(pendulum.now("UTC").start_of("minute"))
    contract = SWEEP_CONTRACTS["notifications.inactivity"]
    for _scheduler in ("a", "b"):  # each sends the tick under its own message id
        send(fresh_amqp_url, contract.message(SweepTick(), scheduled_at=tick))
    manual = subprocess.run(
        [CLI, "notifications", "run", "inactivity"],
        env=worker.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert manual.returncode == 0, manual.stderr

    worker.wait_until("five mails", lambda: len(rows_in(jobs_engine, "sent")) == 5)
    time.sleep(2)  # a second copy of any mail would be on its way by now
    assert len(smtp.messages) == 5
    assert len({mail["To"] for mail in smtp.messages}) == 5
    with LedgerUnit(jobs_engine) as uow:
        runs = uow.session.execute(select(JobRun.run_key)).scalars().all()  # type: ignore[call-overload]
    assert len([key for key in runs if not key.startswith("manual:")]) == 1  # one tick, one run


def test_bad_input_is_dead_lettered_once_each_and_the_worker_goes_on(
    jobs_engine: Engine,
    fresh_amqp_url: str,
    smtp: SmtpServer,
    sentry: SentryCapture,
    worker: RunningWorker,
) -> None:
    tenant = make_tenant(jobs_engine)
    garbled = PAYMENT_FAILED.message(failed(tenant))
    garbled.kwargs.pop("reason")  # an event missing a field: it will never validate
    unfillable = SEND_NOTIFICATION.message(
        Send(
            kind="card_expiring",
            dedupe_key="card_expiring:card:1:2026-12",
            workspace_id=tenant.workspace_id,
            variables={"card_brand": "visa"},  # no ending_digits, expires, days
        )
    )
    nowhere = PAYMENT_FAILED.message(failed(tenant, workspace_id=987_654), event_id="gone-1")
    good = PAYMENT_FAILED.message(failed(tenant), event_id="good-1")
    for message in (garbled, unfillable, nowhere, good):
        send(fresh_amqp_url, message)

    worker.wait_until("two dead letters", lambda: len(letters(jobs_engine)) == 2)
    worker.wait_until("the good mail", lambda: rows_in(jobs_engine, "sent"))
    sentry.wait_for_events(2, timeout_s=30)
    time.sleep(2)  # a second alert, if any, would be here by now
    assert len(sentry.events) == 2
    by_actor = {letter.actor_name: letter for letter in letters(jobs_engine)}
    assert "reason" in (by_actor["payment_failed"].exception_text or "")
    assert "ending_digits" in (by_actor["send_notification"].exception_text or "")
    [skipped] = rows_in(jobs_engine, "skipped")
    assert "workspace 987654 does not exist" in (skipped.last_error or "")
    [pending] = rows_in(jobs_engine, "pending")  # the unfillable one, released for a replay
    assert pending.dedupe_key == "card_expiring:card:1:2026-12"
    assert [mail["To"] for mail in smtp.messages] == [tenant.email]


def test_a_mail_dead_lettered_for_a_wrong_password_is_sent_once_when_replayed_after_the_fix(
    jobs_engine: Engine,
    fresh_amqp_url: str,
    smtp: SmtpServer,
    sentry: SentryCapture,
    worker: RunningWorker,
) -> None:
    put_settings(jobs_engine, customizations={}, credentials={"smtp_password": "wrong-one"})
    tenant = make_tenant(jobs_engine)
    send(fresh_amqp_url, PAYMENT_FAILED.message(failed(tenant), event_id="late-1"))
    worker.wait_until("the dead letter", lambda: len(letters(jobs_engine)) == 1)
    [letter] = letters(jobs_engine)
    assert "refused the login of '[email]' (535)" in (letter.exception_text or "")  # masked
    [event] = sentry.wait_for_events(1, timeout_s=30)
    assert "wrong-one" not in json.dumps(event) + worker.output()

    put_settings(jobs_engine, customizations={}, credentials={"smtp_password": PASSWORD})
    for _ in range(2):  # an impatient operator
        subprocess.run(
            [CLI, "dlq", "replay", str(letter.id)],
            env=worker.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    worker.wait_until("the replayed mail", lambda: rows_in(jobs_engine, "sent"))
    time.sleep(2)  # a second copy would be here by now
    assert len(smtp.messages) == 1
    [row] = ledger_rows(jobs_engine)
    assert (row.state, row.attempts) == ("sent", 2)


def letters(engine: Engine) -> list[DeadLetter]:
    with LedgerUnit(engine) as uow:
        return list(uow.session.execute(select(DeadLetter)).scalars())
