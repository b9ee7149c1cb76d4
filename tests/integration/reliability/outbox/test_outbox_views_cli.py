"""`lineblocs-jobs outbox list|show|purge` on the real MariaDB, as a script sees them (piped)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import Engine, update
from sqlmodel import Session, col

from lineblocs_shared.contracts import Contract
from lineblocs_shared.models.base import utcnow
from lineblocs_shared.models.jobs import OutboxMessage
from lineblocs_shared.reliability.outbox.backlog import find_messages
from lineblocs_shared.reliability.outbox.writer import add_to_outbox
from tests.support.cli import run_cli
from tests.support.outbox_scenario import PaymentFailedNotice

pytestmark = pytest.mark.integration


def outbox_of_three(engine: Engine, contract: Contract[PaymentFailedNotice]) -> list[int]:
    """Three messages, ids oldest first; the first two published 40 days ago."""
    with Session(engine) as session:
        for invoice_id in (1, 2, 3):
            add_to_outbox(session, contract, PaymentFailedNotice(invoice_id=invoice_id))
        session.commit()
    ids = sorted(message.id for message in find_messages(engine) if message.id is not None)
    with Session(engine) as session, session.begin():
        session.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.id).in_(ids[:2]))
            .values(published_at=utcnow() - timedelta(days=40), attempts=1)
        )
    return ids


def test_list_prints_one_tab_separated_line_per_message_when_piped(
    mariadb_engine: Engine, contract: Contract[PaymentFailedNotice]
) -> None:
    first, second, third = outbox_of_three(mariadb_engine, contract)

    listed = run_cli(mariadb_engine, "outbox", "list")

    assert listed.returncode == 0, listed.stderr
    header, *rows = [line.split("\t") for line in listed.stdout.splitlines()]
    assert header[:3] == ["id", "created", "status"]
    assert [(row[0], row[2], row[4]) for row in rows] == [
        (str(third), "pending", contract.actor),
        (str(second), "published", contract.actor),
        (str(first), "published", contract.actor),
    ]
    assert all(len(row) == len(header) for row in rows)


def test_list_filters_limits_and_prints_json_lines(
    mariadb_engine: Engine, contract: Contract[PaymentFailedNotice]
) -> None:
    _, second, third = outbox_of_three(mariadb_engine, contract)

    pending = run_cli(mariadb_engine, "outbox", "list", "--status", "pending", "--json")
    published = run_cli(
        mariadb_engine, "outbox", "list", "--status", "published", "--limit", "1", "--json"
    )

    assert pending.returncode == 0, pending.stderr
    [waiting] = [json.loads(line) for line in pending.stdout.splitlines()]
    assert (waiting["id"], waiting["status"], waiting["published_at"]) == (third, "pending", None)
    assert waiting["queue"] == contract.queue
    [newest_sent] = [json.loads(line) for line in published.stdout.splitlines()]
    assert (newest_sent["id"], newest_sent["status"], newest_sent["attempts"]) == (
        second,
        "published",
        1,
    )
    bad = run_cli(mariadb_engine, "outbox", "list", "--status", "sent")
    assert bad.returncode == 2


def test_show_prints_the_message_with_its_payload(
    mariadb_engine: Engine, contract: Contract[PaymentFailedNotice]
) -> None:
    first, _, _ = outbox_of_three(mariadb_engine, contract)

    shown = run_cli(mariadb_engine, "outbox", "show", str(first))
    as_json = run_cli(mariadb_engine, "outbox", "show", str(first), "--json")
    missing = run_cli(mariadb_engine, "outbox", "show", "987654")

    assert shown.returncode == 0, shown.stderr
    assert '"invoice_id": 1' in shown.stdout
    assert "published" in shown.stdout
    document = json.loads(as_json.stdout)
    assert (document["id"], document["payload"], document["status"]) == (
        first,
        {"invoice_id": 1},
        "published",
    )
    assert missing.returncode == 1
    assert missing.stderr.strip() == "lineblocs-jobs: no outbox message with id 987654"


def test_purge_shows_what_goes_and_deletes_only_when_confirmed(
    mariadb_engine: Engine, contract: Contract[PaymentFailedNotice]
) -> None:
    first, _, third = outbox_of_three(mariadb_engine, contract)

    declined = run_cli(mariadb_engine, "outbox", "purge", "--older-than", "30d", answer="n\n")
    assert declined.returncode == 1
    assert "2 published outbox message(s)" in declined.stderr
    assert f"  {first} " in declined.stderr  # the sample, oldest first
    assert declined.stderr.strip().endswith("not confirmed; --yes skips the question)")
    assert len(find_messages(mariadb_engine)) == 3

    confirmed = run_cli(mariadb_engine, "outbox", "purge", "--older-than", "30d", answer="y\n")
    assert confirmed.returncode == 0, confirmed.stderr
    assert confirmed.stdout.startswith("purged 2 published outbox message(s)")
    assert [message.id for message in find_messages(mariadb_engine)] == [third]


def test_purge_with_yes_asks_nothing_and_a_zero_age_is_refused(
    mariadb_engine: Engine, contract: Contract[PaymentFailedNotice]
) -> None:
    outbox_of_three(mariadb_engine, contract)

    zero = run_cli(mariadb_engine, "outbox", "purge", "--older-than", "0d", "--yes")
    assert zero.returncode == 1
    [line] = zero.stderr.strip().splitlines()
    assert "give an age above zero" in line

    purged = run_cli(mariadb_engine, "outbox", "purge", "--older-than", "30d", "--yes")
    assert purged.returncode == 0, purged.stderr
    assert purged.stdout.startswith("purged 2 published outbox message(s)")
    assert "Delete them?" not in purged.stderr
