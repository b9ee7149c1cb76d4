"""The inactivity and legacy free-trial sweeps: who is selected at the boundaries, what the mail
says, what is written back to the site's users, and that nothing is sent twice."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, delete, select

from lineblocs_notifications import handlers
from lineblocs_notifications.bootstrap import Notifications
from lineblocs_notifications.schedules import SEND_NOTIFICATION
from lineblocs_notifications.sweeps.inactivity import INACTIVITY
from lineblocs_notifications.sweeps.trials import FREE_TRIAL
from lineblocs_shared.db.uow import UnitOfWork
from lineblocs_shared.models.notifications import NotificationState
from lineblocs_shared.models.tenants import User
from lineblocs_shared.queue.bulk import RecordingMessagePublisher
from lineblocs_shared.reliability.periodic.jobs import Trigger
from tests.factories import make_plan, make_subscription, make_user, make_workspace
from tests.integration.notifications.conftest import (
    NOW,
    ledger_rows,
    put_settings,
    sweep_and_deliver,
)
from tests.support.smtp_server import SmtpServer

pytestmark = pytest.mark.integration
DAY = timedelta(days=1)
USERS = User.__table__  # type: ignore[attr-defined]


def user(engine: Engine, **values: Any) -> int:
    with UnitOfWork(engine) as uow:
        made = make_user(uow, **values)
        uow.commit()
        assert made.id is not None
        return made.id


def user_row(engine: Engine, user_id: int) -> Any:
    with engine.connect() as conn:
        return conn.execute(select(USERS).where(USERS.c.id == user_id)).one()


def sent_to(smtp: SmtpServer) -> list[str]:
    return sorted(str(mail["To"]) for mail in smtp.messages)


def test_inactivity_selects_exactly_fourteen_days_and_marks_only_who_it_mailed(
    jobs_engine: Engine, smtp: SmtpServer, smtp_deps: Notifications
) -> None:
    exactly = user(jobs_engine, last_login=NOW - 14 * DAY, email="exactly@example.test")
    almost = user(jobs_engine, last_login=NOW - 14 * DAY + timedelta(hours=1))
    never = user(jobs_engine, last_login=None)
    reminded = user(jobs_engine, last_login=NOW - 30 * DAY, last_login_reminded=NOW - 10 * DAY)

    delivered = sweep_and_deliver(smtp_deps, INACTIVITY, now=NOW)

    assert [d.state for d in delivered] == [NotificationState.SENT]
    assert sent_to(smtp) == ["exactly@example.test"]
    [mail] = smtp.messages
    assert mail["Subject"] == "Account inactivity: we have not seen you on Lineblocs lately"
    text = mail.get_body(("plain",)).get_content()
    assert f"since {(NOW - 14 * DAY):%Y-%m-%d} (14 days)" in text
    assert user_row(jobs_engine, exactly).last_login_reminded == NOW
    for untouched in (almost, never):
        assert user_row(jobs_engine, untouched).last_login_reminded is None
    assert user_row(jobs_engine, reminded).last_login_reminded == NOW - 10 * DAY
    # A day later: the user who was an hour short is due; the one reminded is never again.
    later = sweep_and_deliver(smtp_deps, INACTIVITY, now=NOW + DAY)
    assert [d.dedupe_key.split(":")[1] for d in later] == [str(almost)]


def test_a_muted_user_is_suppressed_and_still_marked_and_one_without_address_is_skipped(
    jobs_engine: Engine, smtp: SmtpServer, smtp_deps: Notifications
) -> None:
    muted = user(jobs_engine, last_login=NOW - 20 * DAY, email_mute_account_changes=False)
    no_address = user(jobs_engine, last_login=NOW - 20 * DAY, email="")

    states = {d.state for d in sweep_and_deliver(smtp_deps, INACTIVITY, now=NOW)}

    assert states == {NotificationState.SUPPRESSED, NotificationState.SKIPPED}
    assert smtp.messages == []
    rows = {row.user_id: row for row in ledger_rows(jobs_engine)}
    assert rows[muted].state == "suppressed"
    assert rows[no_address].state == "skipped"
    assert "no address" in (rows[no_address].last_error or "")
    for user_id in (muted, no_address):  # dealt with: the site's flag says so
        assert user_row(jobs_engine, user_id).last_login_reminded is not None


def test_a_user_deleted_after_the_sweep_is_skipped_not_an_error(
    jobs_engine: Engine, smtp: SmtpServer, smtp_deps: Notifications
) -> None:
    gone = user(jobs_engine, last_login=NOW - 20 * DAY)
    publisher = RecordingMessagePublisher()
    handlers.sweep(smtp_deps, INACTIVITY, publisher, trigger=Trigger(message_id="m"), now=NOW)
    with jobs_engine.begin() as conn:
        conn.execute(delete(USERS).where(USERS.c.id == gone))
    [message] = publisher.published
    payload = SEND_NOTIFICATION.parse(message.kwargs)
    state = handlers.send_notification(smtp_deps, payload, message_id=message.message_id)

    assert state is NotificationState.SKIPPED
    [row] = ledger_rows(jobs_engine)
    assert f"user {gone} does not exist" in (row.last_error or "")
    assert smtp.messages == []


def test_the_same_sweep_twice_and_every_message_delivered_twice_sends_each_mail_once(
    jobs_engine: Engine, smtp: SmtpServer, smtp_deps: Notifications
) -> None:
    for _ in range(3):
        user(jobs_engine, last_login=NOW - 15 * DAY)
    first = sweep_and_deliver(smtp_deps, INACTIVITY, now=NOW, copies=2)
    assert len(first) == 6
    assert {d.state for d in first} == {NotificationState.SENT}  # the copy finds it sent
    assert len(smtp.messages) == 3
    assert len({mail["Message-ID"] for mail in smtp.messages}) == 3


def test_legacy_trials_follow_the_sites_eight_days_and_set_its_flag(
    jobs_engine: Engine, smtp: SmtpServer, smtp_deps: Notifications
) -> None:
    put_settings(jobs_engine, customizations={"is_trial_enabled": True}, credentials={})
    due = user(jobs_engine, free_trial_started=NOW - 8 * DAY, email="due@example.test")
    user(jobs_engine, free_trial_started=NOW - 8 * DAY + timedelta(seconds=1))
    user(jobs_engine, free_trial_started=NOW - 20 * DAY, free_trial_reminder_sent=True)
    with UnitOfWork(jobs_engine) as uow:  # a newer user: the subscription's trial speaks
        owner = make_user(uow, free_trial_started=NOW - 20 * DAY)
        workspace = make_workspace(uow, creator=owner)
        make_subscription(
            uow,
            workspace=workspace,
            plan=make_plan(uow),
            is_free_trial_active=False,
            free_trial_end_date=NOW - 5 * DAY,
        )
        uow.commit()

    delivered = sweep_and_deliver(smtp_deps, FREE_TRIAL, now=NOW)

    assert [d.dedupe_key for d in delivered] == [f"free_trial_expiring:user:{due}"]
    assert sent_to(smtp) == ["due@example.test"]
    assert "free trial, started on" in smtp.messages[0].get_body(("plain",)).get_content()
    assert user_row(jobs_engine, due).free_trial_reminder_sent
    later = sweep_and_deliver(smtp_deps, FREE_TRIAL, now=NOW + DAY)  # the second-short one
    assert f"free_trial_expiring:user:{due}" not in [d.dedupe_key for d in later]
    assert len(later) == 1


def test_no_legacy_trial_mail_while_the_site_has_trials_off(
    jobs_engine: Engine, smtp: SmtpServer, smtp_deps: Notifications
) -> None:
    user(jobs_engine, free_trial_started=NOW - 30 * DAY)
    assert sweep_and_deliver(smtp_deps, FREE_TRIAL, now=NOW) == []


def test_a_subscription_trial_is_announced_within_the_notice_days_once_per_trial_end(
    jobs_engine: Engine, smtp: SmtpServer, smtp_deps: Notifications
) -> None:
    with UnitOfWork(jobs_engine) as uow:
        owner = make_user(uow, email="owner@example.test")
        plan = make_plan(uow)
        ids = {}
        for name, ends, active in (
            ("in_three_days", NOW + 3 * DAY, True),
            ("a_second_later", NOW + 3 * DAY + timedelta(seconds=1), True),
            ("ended", NOW - timedelta(seconds=1), True),
            ("not_in_trial", NOW + DAY, False),
        ):
            workspace = make_workspace(uow, creator=owner, name=name)
            subscription = make_subscription(
                uow,
                workspace=workspace,
                plan=plan,
                is_free_trial_active=active,
                free_trial_end_date=ends,
            )
            ids[name] = subscription.id
        uow.commit()

    delivered = sweep_and_deliver(smtp_deps, FREE_TRIAL, now=NOW)

    ends = NOW + 3 * DAY
    key = f"free_trial_expiring:subscription:{ids['in_three_days']}:{ends:%Y%m%d}"
    assert [d.dedupe_key for d in delivered] == [key]
    text = smtp.messages[0].get_body(("plain",)).get_content()
    assert f"in_three_days ends on {ends:%Y-%m-%d} (3 days left)" in text
    later = sweep_and_deliver(smtp_deps, FREE_TRIAL, now=NOW + timedelta(hours=1))
    assert [d.dedupe_key.split(":")[2] for d in later] == [str(ids["a_second_later"])]
