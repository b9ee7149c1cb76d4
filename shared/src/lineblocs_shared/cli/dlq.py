"""`lineblocs-jobs dlq …`: dead letters from our `lbj_dead_letters` records.

They outlive RabbitMQ's `Q.XQ` copies (dropped after `dramatiq_dead_message_ttl`), so listing,
showing and replaying work from the records alone.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import typer

from lineblocs_shared.cli.connection import connected_engine
from lineblocs_shared.cli.output import JSON_HELP, print_json, print_json_lines, print_table
from lineblocs_shared.cli.purging import YES_HELP, confirm_deletion, purge_cutoff, rows_before
from lineblocs_shared.clock import SystemClock
from lineblocs_shared.errors import ConfigError
from lineblocs_shared.models.jobs import DeadLetter
from lineblocs_shared.queue.broker import build_broker, ping_broker
from lineblocs_shared.reliability.failures import operations as ops
from lineblocs_shared.reliability.failures.store import SqlDeadLetterStore
from lineblocs_shared.settings import Settings, load_settings

RAW_BODY_SHOWN = 400

app = typer.Typer(no_args_is_help=True, help="Dead letters: list, show, replay, purge.")


@contextmanager
def _store(settings: Settings) -> Iterator[SqlDeadLetterStore]:
    with connected_engine(settings) as engine:
        yield SqlDeadLetterStore(engine)


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S}" if moment is not None else "-"


@app.command("list")
def list_(
    queue: str | None = typer.Option(None, help="only this queue"),
    actor: str | None = typer.Option(None, help="only this actor"),
    since: str | None = typer.Option(None, help="last seen since: an age (7d, 12h) or ISO date"),
    limit: int = typer.Option(50, min=1, max=10_000, help="at most this many, newest first"),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """List dead letters, newest first (times in UTC)."""
    settings = load_settings()
    after = ops.parse_since(since, now=SystemClock().now()) if since else None
    with _store(settings) as store:
        letters = store.find(queue=queue, actor=actor, since=after, limit=limit)
    if as_json:
        print_json_lines(_summary(letter) for letter in letters)
        return
    columns = ("id", "last seen", "queue", "actor", "reason", "tries", "status", "error")
    print_table(f"{len(letters)} dead letter(s)", columns, [_cells(letter) for letter in letters])


def _cells(letter: DeadLetter) -> list[str]:
    return [
        str(letter.id),
        _when(letter.last_seen_at),
        letter.queue_name,
        letter.actor_name,
        letter.reason,
        str(letter.attempts),
        letter.status,
        f"{letter.exception_class or '-'}: {(letter.exception_text or '')[:80]}",
    ]


def _summary(letter: DeadLetter) -> dict[str, Any]:
    """A row of `dlq list --json`; `dlq show --json` adds the rest."""
    return {
        "id": letter.id,
        "message_id": letter.message_id,
        "queue": letter.queue_name,
        "actor": letter.actor_name,
        "reason": letter.reason,
        "status": letter.status,
        "attempts": letter.attempts,
        "first_seen_at": letter.first_seen_at,
        "last_seen_at": letter.last_seen_at,
        "exception_class": letter.exception_class,
        "exception_text": letter.exception_text,
    }


def _document(letter: DeadLetter) -> dict[str, Any]:
    return {
        **_summary(letter),
        "args": _json_or_text(letter.args),
        "kwargs": _json_or_text(letter.kwargs),
        "options": json.loads(letter.options),
        "traceback": letter.traceback,
        "alerted_at": letter.alerted_at,
        "replay_count": letter.replay_count,
        "replayed_at": letter.replayed_at,
        "replay_message_id": letter.replay_message_id,
        "body_length": letter.body_length,
    }


def _json_or_text(stored: str) -> Any:
    """Arguments as JSON when they were stored as JSON (redacted ones may not be)."""
    try:
        return json.loads(stored)
    except ValueError:
        return stored


@app.command("show")
def show(
    dead_letter_id: int = typer.Argument(..., help="id from `dlq list`"),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Everything recorded about one dead letter, traceback included."""
    settings = load_settings()
    with _store(settings) as store:
        letter = ops.get_dead_letter(store, dead_letter_id)
    if as_json:
        print_json(_document(letter))
        return
    for label, value in _fields(letter):
        typer.echo(f"{label:<18}{value}")
    typer.echo("traceback:")
    typer.echo(letter.traceback or "  (none recorded)")


def _fields(letter: DeadLetter) -> list[tuple[str, str]]:
    return [
        ("id", str(letter.id)),
        ("message id", letter.message_id),
        ("queue", letter.queue_name),
        ("actor", letter.actor_name),
        ("reason", letter.reason),
        ("status", letter.status),
        ("attempts", str(letter.attempts)),
        ("first seen (UTC)", _when(letter.first_seen_at)),
        ("last seen (UTC)", _when(letter.last_seen_at)),
        ("args", letter.args),
        ("kwargs", letter.kwargs),
        ("options", json.dumps(json.loads(letter.options), sort_keys=True)),
        ("exception", f"{letter.exception_class or '-'}: {letter.exception_text or ''}"),
        ("alerted at", _when(letter.alerted_at)),
        ("replays", str(letter.replay_count)),
        ("replayed at", _when(letter.replayed_at)),
        ("replay message", letter.replay_message_id or "-"),
        *_body_fields(letter),
    ]


def _body_fields(letter: DeadLetter) -> list[tuple[str, str]]:
    """A body refused before it became a message: its length, and the first bytes kept."""
    if letter.body_length is None:
        return []
    kept = "(not kept: over the size limit)"
    if letter.raw_body is not None:
        shown = letter.raw_body[:RAW_BODY_SHOWN].decode("utf-8", errors="backslashreplace")
        kept = repr(shown) + (" …" if len(letter.raw_body) > RAW_BODY_SHOWN else "")
    return [("body length", f"{letter.body_length:,} bytes"), ("raw body", kept)]


@app.command("replay")
def replay(
    dead_letter_id: int | None = typer.Argument(None, help="id from `dlq list`"),
    actor: str | None = typer.Option(None, help="replay every dead letter of this actor"),
) -> None:
    """Re-enqueue dead letters with fresh retries; replaying one twice is a no-op."""
    if (dead_letter_id is None) == (actor is None):
        # A usage error: one line and exit 2, as click does for a missing argument.
        wanted = "needs" if actor is None else "takes one of"
        typer.secho(
            f"lineblocs-jobs: dlq replay {wanted} a dead-letter ID or --actor ACTOR",
            err=True,
            fg=typer.colors.RED,
        )
        raise typer.Exit(2)
    settings = load_settings()
    if settings.uses_embedded_broker:
        raise ConfigError("dlq replay publishes to RabbitMQ: set QUEUE_URL=amqp://…")
    clock = SystemClock()
    with _store(settings) as store:
        ping_broker(settings)  # before claiming anything: one clear line if RabbitMQ is down
        broker = build_broker(settings)
        try:
            if dead_letter_id is not None:
                results = [ops.replay(store, broker, dead_letter_id, clock=clock)]
            else:
                results = ops.replay_actor(store, broker, actor or "", clock=clock)
        finally:
            broker.close()
    for result in results:
        typer.echo(f"dead letter {result.dead_letter_id}: {_describe(result)}")
    if not results:
        typer.echo(f"no dead letters of actor {actor} to replay")
    unsent = (ops.ReplayOutcome.REDACTED, ops.ReplayOutcome.UNREADABLE)
    if any(result.outcome in unsent for result in results):
        raise typer.Exit(1)


def _describe(result: ops.ReplayResult) -> str:
    if result.outcome is ops.ReplayOutcome.REPLAYED:
        return f"replayed as message {result.message_id}"
    if result.outcome is ops.ReplayOutcome.ALREADY_REPLAYED:
        return f"already replayed (message {result.message_id or '?'}), nothing sent"
    if result.outcome is ops.ReplayOutcome.UNREADABLE:
        return "not replayed: it was refused before it could be read as a message"
    return "not replayed: its stored arguments had secrets redacted"


@app.command("purge")
def purge(
    older_than: str = typer.Option(..., "--older-than", help="an age above zero: 30d, 12h, 2w"),
    yes: bool = typer.Option(False, "--yes", help=YES_HELP),
) -> None:
    """Delete dead-letter records last seen longer ago than --older-than.

    Shows how many go (and the oldest few) and asks first, unless --yes.
    """
    settings = load_settings()
    cutoff = purge_cutoff(older_than, now=SystemClock().now())
    with connected_engine(settings) as engine:
        count, sample = rows_before(engine, DeadLetter.last_seen_at, cutoff)
        confirm_deletion(
            count=count,
            what="dead letter(s)",
            sample=[" ".join(_cells(letter)[:4]) for letter in sample],
            yes=yes,
        )
        purged = SqlDeadLetterStore(engine).purge(last_seen_before=cutoff)
    typer.echo(f"purged {purged} dead letter(s) last seen before {_when(cutoff)} UTC")
