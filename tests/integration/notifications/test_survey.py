"""The satisfaction survey: who gets it, its one-click unsubscribe headers, the endpoint behind
them over real HTTP, and the site's flag set only once the mail is sent."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select

from lineblocs_notifications.bootstrap import Notifications
from lineblocs_notifications.sweeps.survey import SURVEY
from lineblocs_notifications.unsubscribe_endpoint import UnsubscribeServer
from lineblocs_shared.db.uow import UnitOfWork
from lineblocs_shared.models.notifications import NotificationState
from lineblocs_shared.models.tenants import User, Workspace
from tests.factories import make_user, make_workspace
from tests.integration.notifications.conftest import (
    NOW,
    MakeDeps,
    put_settings,
    smtp_settings,
    sweep_and_deliver,
)
from tests.support.smtp_server import SmtpServer

pytestmark = pytest.mark.integration
WORKSPACES = Workspace.__table__  # type: ignore[attr-defined]
WEEK = timedelta(days=7)
SECRET = "unsubscribe-test-secret"
SURVEY_KIND = "customer_satisfaction_survey"


@pytest.fixture
def survey_site(jobs_engine: Engine, smtp: SmtpServer) -> None:
    put_settings(
        jobs_engine,
        customizations={
            "mail_provider": "smtp-gateway",
            "customer_satisfaction_survey_enabled": True,
            "customer_satisfaction_survey_url": "https://survey.example.test/s?id=7",
            "contact_email": "hello@example.test",
        },
        credentials=smtp_settings(smtp),
    )


def survey_deps(make_deps: MakeDeps, smtp: SmtpServer, **options: Any) -> Notifications:
    return make_deps(mail_tls_ca_file=str(smtp.cert_file), unsubscribe_secret=SECRET, **options)


def workspaces(engine: Engine, ages: dict[str, timedelta], **user: Any) -> dict[str, int]:
    with UnitOfWork(engine) as uow:
        owner = make_user(uow, **user)
        made = {}
        for name, age in ages.items():
            workspace = make_workspace(uow, creator=owner, name=name, created_at=NOW - age)
            assert workspace.id is not None
            made[name] = workspace.id
        uow.commit()
    return made


def surveyed(engine: Engine, workspace_id: int) -> bool:
    stmt = select(WORKSPACES.c.sent_satisfaction_survey).where(WORKSPACES.c.id == workspace_id)
    with engine.connect() as conn:
        return bool(conn.execute(stmt).scalar_one())


@pytest.mark.usefixtures("survey_site")
def test_workspaces_a_week_old_get_the_survey_with_one_click_unsubscribe_headers(
    jobs_engine: Engine, smtp: SmtpServer, make_deps: MakeDeps
) -> None:
    ids = workspaces(jobs_engine, {"week": WEEK, "almost": WEEK - timedelta(seconds=1)})
    deps = survey_deps(make_deps, smtp, unsubscribe_url="https://jobs.example.test/unsubscribe")

    delivered = sweep_and_deliver(deps, SURVEY, now=NOW)

    assert [d.dedupe_key for d in delivered] == [
        f"customer_satisfaction_survey:workspace:{ids['week']}"
    ]
    [mail] = smtp.messages
    link = re.fullmatch(r"<(.+)>", mail["List-Unsubscribe"])
    assert link is not None
    assert link.group(1).startswith("https://jobs.example.test/unsubscribe?u=")
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = mail.get_body(("plain",)).get_content()
    assert "https://survey.example.test/s?id=7" in text
    assert link.group(1) in text
    assert surveyed(jobs_engine, ids["week"])
    assert not surveyed(jobs_engine, ids["almost"])


@pytest.mark.usefixtures("survey_site")
def test_without_an_unsubscribe_url_the_link_is_a_mailto_and_no_one_click_is_claimed(
    jobs_engine: Engine, smtp: SmtpServer, make_deps: MakeDeps
) -> None:
    workspaces(jobs_engine, {"old": 3 * WEEK})
    sweep_and_deliver(survey_deps(make_deps, smtp), SURVEY, now=NOW)
    [mail] = smtp.messages
    assert mail["List-Unsubscribe"].startswith("<mailto:hello@example.test?subject=unsubscribe")
    assert mail["List-Unsubscribe-Post"] is None


@pytest.mark.usefixtures("survey_site")
def test_a_muted_creator_is_suppressed_and_the_workspace_is_not_marked_surveyed(
    jobs_engine: Engine, smtp: SmtpServer, make_deps: MakeDeps
) -> None:
    ids = workspaces(jobs_engine, {"old": 3 * WEEK}, email_mute_account_changes=False)
    [delivered] = sweep_and_deliver(survey_deps(make_deps, smtp), SURVEY, now=NOW)
    assert delivered.state is NotificationState.SUPPRESSED
    assert smtp.messages == []
    assert not surveyed(jobs_engine, ids["old"])


def test_no_survey_while_the_site_has_it_off(
    jobs_engine: Engine, smtp: SmtpServer, smtp_deps: Notifications
) -> None:
    workspaces(jobs_engine, {"old": 3 * WEEK})
    assert sweep_and_deliver(smtp_deps, SURVEY, now=NOW) == []


@pytest.mark.usefixtures("survey_site")
def test_the_one_click_endpoint_records_the_opt_out_and_refuses_a_forged_link(
    jobs_engine: Engine, smtp: SmtpServer, make_deps: MakeDeps
) -> None:
    probe = survey_deps(make_deps, smtp)
    server = UnsubscribeServer(probe, host="127.0.0.1", port=0).start()
    try:
        base = f"http://127.0.0.1:{server.port}/unsubscribe"
        deps = survey_deps(make_deps, smtp, unsubscribe_url=base)
        ids = workspaces(jobs_engine, {"first": 3 * WEEK})
        sweep_and_deliver(deps, SURVEY, now=NOW)
        link = smtp.messages[0]["List-Unsubscribe"].strip("<>")

        forged = re.sub(r"t=[^&]+", "t=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", link)
        assert httpx.post(forged, data={"List-Unsubscribe": "One-Click"}).status_code == 403
        assert httpx.get(link).status_code == 200  # the confirmation page: nothing recorded
        assert not probe.optouts.has(int(re.findall(r"u=(\d+)", link)[0]), SURVEY_KIND)

        for _ in range(2):  # a second click changes nothing
            answer = httpx.post(link, data={"List-Unsubscribe": "One-Click"})
            assert answer.status_code == 200
            assert "no more customer satisfaction survey" in answer.text

        with UnitOfWork(jobs_engine) as uow:  # the same creator's next workspace
            first = uow.session.get(Workspace, ids["first"])
            assert first is not None
            owner = uow.session.get(User, first.creator_id)
            assert owner is not None
            make_workspace(uow, creator=owner, name="second", created_at=NOW - 2 * WEEK)
            uow.commit()
        [delivered] = sweep_and_deliver(deps, SURVEY, now=NOW)
        assert delivered.state is NotificationState.SUPPRESSED
        assert len(smtp.messages) == 1
    finally:
        server.stop()
