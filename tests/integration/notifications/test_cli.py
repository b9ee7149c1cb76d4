"""`lineblocs-jobs notifications …` as an operator runs it: a real process, the real MariaDB
(and RabbitMQ for `run`), mails written by the file transport."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from lineblocs_notifications import handlers
from lineblocs_notifications.bootstrap import Notifications
from lineblocs_shared.db.uow import UnitOfWork
from lineblocs_shared.models.jobs import JobRun
from lineblocs_shared.models.notifications import Notification
from tests.factories import make_user
from tests.integration.notifications.conftest import (
    NOW,
    MakeDeps,
    failed,
    ledger_rows,
    make_tenant,
)
from tests.support.cli import CLI

pytestmark = pytest.mark.integration


def run_cli(
    *args: str, engine: Engine, mail_dir: Path, queue_url: str = "memory://"
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env |= {
        "DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "QUEUE_URL": queue_url,
        "MAIL_TRANSPORT_OVERRIDE": "file",
        "MAIL_FILE_DIR": str(mail_dir),
    }
    return subprocess.run(
        [CLI, "notifications", *args], env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def file_deps(make_deps: MakeDeps) -> Notifications:
    return make_deps(mail_transport_override="file")


def count(engine: Engine, model: type) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(model)).scalar_one())


def a_sent_mail(engine: Engine, deps: Notifications) -> int:
    tenant = make_tenant(engine)
    event = failed(tenant)
    handlers.payment_failed(deps, event, event_id="ev-cli", message_id="m-cli")
    [row] = ledger_rows(engine)
    assert row.id is not None
    return row.id


def test_list_show_and_resend_work_from_the_ledger(
    jobs_engine: Engine, file_deps: Notifications, tmp_path: Path
) -> None:
    sent = a_sent_mail(jobs_engine, file_deps)

    listed = run_cli("list", "--json", "--status", "sent", engine=jobs_engine, mail_dir=tmp_path)
    assert listed.returncode == 0, listed.stderr
    [line] = listed.stdout.splitlines()
    assert json.loads(line)["id"] == sent
    assert json.loads(line)["context"]["card_last_4"] == "4242"

    shown = run_cli("show", str(sent), engine=jobs_engine, mail_dir=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "billing_failed:ev-cli" in shown.stdout

    resent = run_cli("resend", str(sent), engine=jobs_engine, mail_dir=tmp_path)
    assert resent.returncode == 0, resent.stderr
    assert f"notification {sent} resent as billing_failed:resend:{sent}:" in resent.stdout
    original, again = ledger_rows(jobs_engine)
    assert again.resend_of == sent
    assert again.state == "sent"
    assert again.message_id != original.message_id
    assert len(list(tmp_path.glob("*.eml"))) == 1  # the CLI's own file transport folder

    missing = run_cli("show", "999999", engine=jobs_engine, mail_dir=tmp_path)
    assert missing.returncode == 1
    assert "no notification 999999" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_preview_renders_a_real_users_mail_and_sends_nothing(
    jobs_engine: Engine, tmp_path: Path
) -> None:
    tenant = make_tenant(jobs_engine)
    shown = run_cli(
        "preview", "card_expiring", "--workspace", str(tenant.workspace_id),
        engine=jobs_engine, mail_dir=tmp_path,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert f"To: {tenant.email}" in shown.stdout
    assert "Subject: Your card ending in 4242 expires soon" in shown.stdout
    assert "Hello Ada," in shown.stdout
    assert count(jobs_engine, Notification) == 0
    assert list(tmp_path.glob("*.eml")) == []


def test_a_workspace_mail_previewed_for_a_user_alone_says_what_is_missing(
    jobs_engine: Engine, tmp_path: Path
) -> None:
    tenant = make_tenant(jobs_engine)
    shown = run_cli(
        "preview", "card_expiring", "--user", str(tenant.user_id),
        engine=jobs_engine, mail_dir=tmp_path,
    )  # fmt: skip
    assert shown.returncode == 1
    [line] = shown.stderr.strip().splitlines()  # one line, not a traceback
    assert "a mail about a workspace needs --workspace ID" in line


def test_run_dry_run_lists_the_mails_and_claims_nothing(
    jobs_engine: Engine, tmp_path: Path
) -> None:
    with UnitOfWork(jobs_engine) as uow:
        user = make_user(uow, last_login=NOW - timedelta(days=20))
        uow.commit()
    shown = run_cli(
        "run", "inactivity", "--dry-run", "--now", NOW.isoformat(),
        engine=jobs_engine, mail_dir=tmp_path,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert f"would send: inactive_user:{user.id}:" in shown.stdout
    assert "1 due, 0 already in the ledger, 0 enqueued" in shown.stdout
    assert count(jobs_engine, JobRun) == 0
    assert count(jobs_engine, Notification) == 0


def test_run_enqueues_through_the_schedules_claims_on_rabbitmq(
    jobs_engine: Engine, tmp_path: Path, fresh_amqp_url: str
) -> None:
    with UnitOfWork(jobs_engine) as uow:
        make_user(uow, last_login=NOW - timedelta(days=20))
        uow.commit()
    shown = run_cli(
        "run", "inactivity", engine=jobs_engine, mail_dir=tmp_path, queue_url=fresh_amqp_url
    )
    assert shown.returncode == 0, shown.stderr
    assert "1 due, 0 already in the ledger, 1 enqueued" in shown.stdout
    with jobs_engine.connect() as conn:
        runs = conn.execute(select(JobRun.job, JobRun.state)).all()  # type: ignore[call-overload]
    assert [tuple(run) for run in runs] == [("notifications.inactivity", "succeeded")]


def test_run_refuses_the_in_process_broker_and_an_unknown_sweep(
    jobs_engine: Engine, tmp_path: Path
) -> None:
    embedded = run_cli("run", "cards", engine=jobs_engine, mail_dir=tmp_path)
    assert embedded.returncode == 1
    assert "needs RabbitMQ" in embedded.stderr
    unknown = run_cli("run", "everything", engine=jobs_engine, mail_dir=tmp_path)
    assert unknown.returncode == 1
    assert "no sweep 'everything'" in unknown.stderr
