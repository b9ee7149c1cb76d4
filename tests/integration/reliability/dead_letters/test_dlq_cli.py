"""`lineblocs-jobs dlq`: a dead letter stays replayable after RabbitMQ dropped its XQ copy.

The CLI runs as its own process (as an operator runs it) against the same RabbitMQ vhost and
MariaDB database as the worker threads of this test.
"""

from __future__ import annotations

import os
import subprocess
import time

import pytest

from lineblocs_shared.reliability.failures.taxonomy import FatalError
from tests.integration.reliability.dead_letters.conftest import (
    FAST_RETRIES,
    RabbitHarness,
    purge_queue,
    queue_depth,
    wait_until,
)
from tests.support.cli import CLI

pytestmark = pytest.mark.integration


def dlq(rabbit: RabbitHarness, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "QUEUE_URL")}
    env.update(DATABASE_URL=rabbit.settings.database_url, QUEUE_URL=rabbit.settings.queue_url)
    return subprocess.run(
        [CLI, "dlq", *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_replay_after_the_broker_copy_is_gone(rabbit: RabbitHarness) -> None:
    def import_cdrs(attempt: int) -> None:
        if attempt == 1:
            raise FatalError("CDR file missing")  # an operator uploads it, then replays

    rabbit.actor(import_cdrs, max_retries=3, **FAST_RETRIES).send(day="2026-03-14")
    rabbit.start_worker()
    [letter] = rabbit.wait_for_dead_letters(1)
    xq = f"{rabbit.queue}.XQ"
    assert queue_depth(rabbit.settings.queue_url, xq) == 1
    purge_queue(rabbit.settings.queue_url, xq)  # RabbitMQ's dead-message TTL ran out

    listed = dlq(rabbit, "list", "--queue", rabbit.queue, "--since", "1h")
    assert listed.returncode == 0, listed.stderr
    assert "import_cdrs" in listed.stdout
    assert len(listed.stdout.splitlines()) == 2  # piped: a header line and one row
    shown = dlq(rabbit, "show", str(letter.id))
    assert shown.returncode == 0, shown.stderr
    assert "CDR file missing" in shown.stdout
    assert "raise FatalError" in shown.stdout  # the traceback

    replayed = dlq(rabbit, "replay", str(letter.id))
    assert replayed.returncode == 0, replayed.stderr
    assert f"dead letter {letter.id}: replayed as message" in replayed.stdout
    wait_until(lambda: rabbit.calls == [1, 2], what="the replayed message to run")

    again = dlq(rabbit, "replay", str(letter.id))
    assert again.returncode == 0, again.stderr
    assert "already replayed" in again.stdout
    rabbit.settle()
    assert rabbit.calls == [1, 2]
    [after] = rabbit.dead_letters()  # the replay succeeded: no new dead letter
    assert (after.status, after.replay_count) == ("replayed", 1)
    assert after.replay_message_id is not None
    assert after.replay_message_id in replayed.stdout
    assert queue_depth(rabbit.settings.queue_url, xq) == 0


def test_replay_by_actor_and_purge(rabbit: RabbitHarness) -> None:
    def notify(attempt: int) -> None:
        if attempt <= 2:
            raise FatalError("template missing")

    actor = rabbit.actor(notify, **FAST_RETRIES)
    actor.send(user_id=1)
    actor.send(user_id=2)
    rabbit.start_worker()
    rabbit.wait_for_dead_letters(2)

    replayed = dlq(rabbit, "replay", "--actor", "notify")
    assert replayed.returncode == 0, replayed.stderr
    assert replayed.stdout.count("replayed as message") == 2
    wait_until(lambda: len(rabbit.calls) == 4, what="both replays to run")

    kept = dlq(rabbit, "purge", "--older-than", "1d")
    assert kept.returncode == 0, kept.stderr
    assert "purged 0 dead letter(s)" in kept.stdout
    time.sleep(2)  # a zero age is refused: purge what is older than a second
    purged = dlq(rabbit, "purge", "--older-than", "1s", "--yes")
    assert "purged 2 dead letter(s)" in purged.stdout
    assert rabbit.dead_letters() == []


def test_unknown_id_and_bad_age_are_one_line_failures(rabbit: RabbitHarness) -> None:
    missing = dlq(rabbit, "show", "987654")
    assert missing.returncode == 1
    assert missing.stderr.strip() == "lineblocs-jobs: no dead letter with id 987654"
    bad = dlq(rabbit, "purge", "--older-than", "a while")
    assert bad.returncode == 1
    assert len(bad.stderr.strip().splitlines()) == 1
