"""`lineblocs-jobs dlq` as scripts use it: JSON, piped lines, purges that ask, usage errors.

The records are written straight into `lbj_dead_letters` (no worker needed to read them back).
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import Engine

from lineblocs_shared.models.base import utcnow
from lineblocs_shared.models.jobs import DeadLetter, DeadLetterStatus
from lineblocs_shared.reliability.failures.store import SqlDeadLetterStore
from tests.support.cli import run_cli

pytestmark = pytest.mark.integration


def record(engine: Engine, message_id: str, *, days_ago: int) -> int:
    seen = utcnow() - timedelta(days=days_ago)
    letter = SqlDeadLetterStore(engine).record(
        DeadLetter(
            message_id=message_id,
            queue_name="billing",
            actor_name="bill_subscription",
            args="[]",
            kwargs='{"subscription_id": 42}',
            options='{"retries": 3}',
            reason="fatal",
            exception_class="ValueError",
            exception_text="bad\tperiod\nsecond line [red]not markup[/]",
            traceback="Traceback (most recent call last): ...",
            attempts=4,
            first_seen_at=seen,
            last_seen_at=seen,
            status=DeadLetterStatus.DEAD,
        )
    )
    assert letter.id is not None
    return letter.id


def test_list_piped_is_one_line_per_letter_and_json_is_one_object_per_line(
    jobs_engine: Engine,
) -> None:
    old = record(jobs_engine, "m-old", days_ago=40)
    new = record(jobs_engine, "m-new", days_ago=1)

    piped = run_cli(jobs_engine, "dlq", "list")
    lines = run_cli(jobs_engine, "dlq", "list", "--json")

    assert piped.returncode == 0, piped.stderr
    header, *rows = [line.split("\t") for line in piped.stdout.splitlines()]
    assert header == ["id", "last seen", "queue", "actor", "reason", "tries", "status", "error"]
    assert [row[0] for row in rows] == [str(new), str(old)]
    assert rows[0][7] == "ValueError: bad period second line [red]not markup[/]"
    listed = [json.loads(line) for line in lines.stdout.splitlines()]
    assert [(d["id"], d["message_id"], d["attempts"]) for d in listed] == [
        (new, "m-new", 4),
        (old, "m-old", 4),
    ]


def test_show_json_is_one_object_with_the_arguments_parsed(jobs_engine: Engine) -> None:
    letter_id = record(jobs_engine, "m-1", days_ago=1)

    shown = run_cli(jobs_engine, "dlq", "show", str(letter_id), "--json")

    assert shown.returncode == 0, shown.stderr
    document = json.loads(shown.stdout)
    assert document["kwargs"] == {"subscription_id": 42}
    assert document["options"] == {"retries": 3}
    assert document["traceback"].startswith("Traceback")
    assert document["replayed_at"] is None


def test_purge_shows_what_goes_asks_and_refuses_a_zero_age(jobs_engine: Engine) -> None:
    old = record(jobs_engine, "m-old", days_ago=40)
    record(jobs_engine, "m-new", days_ago=1)
    store = SqlDeadLetterStore(jobs_engine)

    zero = run_cli(jobs_engine, "dlq", "purge", "--older-than", "0d")
    declined = run_cli(jobs_engine, "dlq", "purge", "--older-than", "30d", answer="no\n")

    assert zero.returncode == 1
    assert zero.stderr.strip().endswith("give an age above zero")
    assert declined.returncode == 1
    assert "1 dead letter(s) to delete" in declined.stderr
    assert f"  {old} " in declined.stderr
    assert len(store.find()) == 2
    confirmed = run_cli(jobs_engine, "dlq", "purge", "--older-than", "30d", answer="y\n")
    assert confirmed.returncode == 0, confirmed.stderr
    assert confirmed.stdout.startswith("purged 1 dead letter(s)")
    assert [letter.message_id for letter in store.find()] == ["m-new"]


def test_replay_without_an_id_or_actor_says_what_is_missing(jobs_engine: Engine) -> None:
    missing = run_cli(jobs_engine, "dlq", "replay")
    both = run_cli(jobs_engine, "dlq", "replay", "7", "--actor", "notify")

    assert missing.returncode == 2
    assert missing.stderr.strip() == (
        "lineblocs-jobs: dlq replay needs a dead-letter ID or --actor ACTOR"
    )
    assert both.returncode == 2
    assert len(both.stderr.strip().splitlines()) == 1
