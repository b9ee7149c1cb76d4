"""The usage-trigger and card-expiry sweeps: the exact boundary of a trigger in integer cents,
once per trigger and credit as the site records it, and cards expiring across a year end."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from lineblocs_notifications.bootstrap import Notifications
from lineblocs_notifications.sweeps.cards import CARDS_SWEEP
from lineblocs_notifications.sweeps.usage_triggers import USAGE_TRIGGERS
from lineblocs_shared.db.uow import UnitOfWork
from lineblocs_shared.models.billing import Credit, Debit
from lineblocs_shared.models.notifications import NotificationState
from lineblocs_shared.models.tenants import User
from lineblocs_shared.models.usage import UsageTrigger, UsageTriggerResult
from tests.factories import make_card, make_user, make_workspace
from tests.integration.notifications.conftest import NOW, put_settings, sweep_and_deliver
from tests.support.smtp_server import SmtpServer

pytestmark = pytest.mark.integration
RESULTS = UsageTriggerResult.__table__  # type: ignore[attr-defined]


@dataclass
class Prepaid:
    engine: Engine
    user_id: int
    workspace_id: int

    def credit(self, cents: int, *, status: str = "APPROVED", ago: timedelta) -> int:
        return self._add(
            Credit(
                user_id=self.user_id,
                workspace_id=self.workspace_id,
                cents=cents,
                balance=0,
                source="CARD",
                status=status,
                created_at=NOW - ago,
                updated_at=NOW - ago,
            )
        )

    def debit(self, cents: int, *, ago: timedelta, workspace: bool = True) -> int:
        return self._add(
            Debit(
                user_id=self.user_id,
                workspace_id=self.workspace_id if workspace else None,
                cents=cents,
                source="CALL",
                status="CREATED",
                created_at=NOW - ago,
                updated_at=NOW - ago,
            )
        )

    def trigger(self, percentage: int) -> int:
        return self._add(
            UsageTrigger(
                user_id=self.user_id, workspace_id=self.workspace_id, percentage=percentage
            )
        )

    def _add(self, row: Credit | Debit | UsageTrigger) -> int:
        with UnitOfWork(self.engine) as uow:
            uow.session.add(row)
            uow.session.flush()
            assert row.id is not None
            made = row.id
            uow.commit()
        return made


@pytest.fixture
def prepaid(jobs_engine: Engine) -> Prepaid:
    put_settings(jobs_engine, customizations={"default_currency": "USD"}, credentials={})
    with UnitOfWork(jobs_engine) as uow:
        owner = make_user(uow, email="owner@example.test")
        workspace = make_workspace(uow, creator=owner, name="Acme")
        uow.commit()
        assert owner.id is not None
        assert workspace.id is not None
        return Prepaid(jobs_engine, owner.id, workspace.id)


def results(engine: Engine) -> list[tuple[int, int]]:
    with engine.connect() as conn:
        rows = conn.execute(select(RESULTS.c.usage_trigger_id, RESULTS.c.credit_id)).all()
    return [(a, b) for a, b in rows]


HOUR = timedelta(hours=1)


def test_a_trigger_fires_at_exactly_its_percentage_and_not_a_cent_above(
    jobs_engine: Engine, smtp: SmtpServer, smtp_deps: Notifications, prepaid: Prepaid
) -> None:
    prepaid.credit(2000, ago=10 * HOUR)
    latest = prepaid.credit(10_000, ago=5 * HOUR)  # balance 12,000; its 50 % is 5,000
    prepaid.credit(50_000, status="PENDING", ago=HOUR)  # neither counted nor the latest
    trigger = prepaid.trigger(50)
    prepaid.debit(6999, ago=2 * HOUR)  # balance 5,001: one cent above
    assert sweep_and_deliver(smtp_deps, USAGE_TRIGGERS, now=NOW) == []

    prepaid.debit(1, ago=HOUR)  # balance 5,000: at the threshold
    delivered = sweep_and_deliver(smtp_deps, USAGE_TRIGGERS, now=NOW)

    assert [(d.dedupe_key, d.state) for d in delivered] == [
        (f"usage_trigger:{trigger}:credit:{latest}", NotificationState.SENT)
    ]
    [mail] = smtp.messages
    assert mail["To"] == "owner@example.test"
    assert mail["Subject"] == "Acme: balance down to 50% of your last top-up"
    text = mail.get_body(("plain",)).get_content()
    assert "down to $50.00" in text
    assert "top-up ($100.00)" in text
    assert results(jobs_engine) == [(trigger, latest)]  # recorded as the site does
    assert sweep_and_deliver(smtp_deps, USAGE_TRIGGERS, now=NOW + HOUR) == []


def test_a_top_up_arms_the_trigger_again_and_a_pair_the_site_recorded_is_not_mailed(
    jobs_engine: Engine, smtp: SmtpServer, smtp_deps: Notifications, prepaid: Prepaid
) -> None:
    first = prepaid.credit(1000, ago=5 * HOUR)
    trigger = prepaid.trigger(10)
    with jobs_engine.begin() as conn:  # the site's own consumer alerted already
        conn.execute(RESULTS.insert().values(usage_trigger_id=trigger, credit_id=first))
    prepaid.debit(1000, ago=4 * HOUR)  # balance 0
    assert sweep_and_deliver(smtp_deps, USAGE_TRIGGERS, now=NOW) == []

    second = prepaid.credit(1000, ago=3 * HOUR)  # balance 1,000
    prepaid.debit(901, ago=2 * HOUR)  # balance 99 <= 10 % of 1,000
    delivered = sweep_and_deliver(smtp_deps, USAGE_TRIGGERS, now=NOW)

    assert [d.dedupe_key for d in delivered] == [f"usage_trigger:{trigger}:credit:{second}"]
    assert sorted(results(jobs_engine)) == sorted([(trigger, first), (trigger, second)])


def test_a_creators_rows_without_workspace_count_only_when_they_created_one_workspace(
    jobs_engine: Engine, smtp: SmtpServer, smtp_deps: Notifications, prepaid: Prepaid
) -> None:
    prepaid.credit(1000, ago=5 * HOUR)
    prepaid.trigger(20)
    prepaid.debit(800, ago=HOUR, workspace=False)  # an older row: no workspace_id
    assert len(sweep_and_deliver(smtp_deps, USAGE_TRIGGERS, now=NOW)) == 1  # 200 <= 20 %


def test_a_muted_auditing_category_suppresses_the_alert_and_the_site_still_records_it(
    jobs_engine: Engine, smtp: SmtpServer, smtp_deps: Notifications, prepaid: Prepaid
) -> None:
    with jobs_engine.begin() as conn:
        users = User.__table__  # type: ignore[attr-defined]
        conn.execute(
            users.update().where(users.c.id == prepaid.user_id).values(email_mute_auditing=0)
        )
    credit = prepaid.credit(1000, ago=5 * HOUR)
    trigger = prepaid.trigger(100)
    [delivered] = sweep_and_deliver(smtp_deps, USAGE_TRIGGERS, now=NOW)
    assert delivered.state is NotificationState.SUPPRESSED
    assert smtp.messages == []
    assert results(jobs_engine) == [(trigger, credit)]


def cards_at(engine: Engine, expiries: dict[str, tuple[int | None, int | None]]) -> dict[str, int]:
    with UnitOfWork(engine) as uow:
        owner = make_user(uow, email="cards@example.test")
        workspace = make_workspace(uow, creator=owner, name="Cards Inc")
        made = {}
        for last_4, (month, year) in expiries.items():
            card = make_card(
                uow, workspace=workspace, last_4=last_4, exp_month=month, exp_year=year
            )
            assert card.id is not None
            made[last_4] = card.id
        uow.commit()
    return made


def test_cards_expiring_this_month_or_next_across_the_year_end(
    jobs_engine: Engine, smtp: SmtpServer, smtp_deps: Notifications
) -> None:
    cards = cards_at(
        jobs_engine,
        {
            "1111": (12, 2026),  # this month
            "2222": (1, 2027),  # next month, next year
            "3333": (2, 2027),  # too far
            "4444": (11, 2026),  # expired already
            "5555": (None, None),  # no expiry known: the normal case
            "6666": (12, 26),  # a two-digit year
            "7777": (13, 2026),  # no such month
        },
    )
    mid_december = datetime(2026, 12, 15, 9, 0, tzinfo=NOW.tzinfo)

    delivered = sweep_and_deliver(smtp_deps, CARDS_SWEEP, now=mid_december)

    assert sorted(d.dedupe_key for d in delivered) == sorted(
        [
            f"card_expiring:card:{cards['1111']}:2026-12",
            f"card_expiring:card:{cards['2222']}:2027-01",
            f"card_expiring:card:{cards['6666']}:2026-12",
        ]
    )
    texts = {mail["Subject"]: mail.get_body(("plain",)).get_content() for mail in smtp.messages}
    assert (
        "expires at the end of 12/2026: in 17 days"
        in texts["Your card ending in 1111 expires soon"]
    )
    assert (
        "expires at the end of 01/2027: in 48 days"
        in texts["Your card ending in 2222 expires soon"]
    )
    assert sweep_and_deliver(smtp_deps, CARDS_SWEEP, now=mid_december + timedelta(days=1)) == []
