"""`lineblocs-jobs dlq …`: dead letters from our `lbj_dead_letters` records.

They outlive RabbitMQ's `Q.XQ` copies (dropped after `dramatiq_dead_message_ttl`), so listing,
showing and replaying work from the records alone.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import typer
from rich.console import Console
from rich.table import Table

from lineblocs_shared.clock import SystemClock
from lineblocs_shared.db import make_engine, ping
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
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        ping(engine)
        yield SqlDeadLetterStore(engine)
    finally:
        engine.dispose()


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S}" if moment is not None else "-"


@app.command("list")
def list_(
    queue: str | None = typer.Option(None, help="only this queue"),
    actor: str | None = typer.Option(None, help="only this actor"),
    since: str | None = typer.Option(None, help="last seen since: an age (7d, 12h) or ISO date"),
    limit: int = typer.Option(50, min=1, max=10_000, help="at most this many, newest first"),
) -> None:
    """List dead letters, newest first (times in UTC)."""
    settings = load_settings()
    after = ops.parse_since(since, now=SystemClock().now()) if since else None
    with _store(settings) as store:
        letters = store.find(queue=queue, actor=actor, since=after, limit=limit)
    table = Table(title=f"{len(letters)} dead letter(s)", title_justify="left")
    for column in ("id", "last seen", "queue", "actor", "reason", "tries", "status", "error"):
        table.add_column(column, overflow="fold")
    for letter in letters:
        table.add_row(
            str(letter.id),
            _when(letter.last_seen_at),
            letter.queue_name,
            letter.actor_name,
            letter.reason,
            str(letter.attempts),
            letter.status,
            f"{letter.exception_class or '-'}: {(letter.exception_text or '')[:80]}",
        )
    Console().print(table)


@app.command("show")
def show(dead_letter_id: int = typer.Argument(..., help="id from `dlq list`")) -> None:
    """Everything recorded about one dead letter, traceback included."""
    settings = load_settings()
    with _store(settings) as store:
        letter = ops.get_dead_letter(store, dead_letter_id)
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
        raise typer.BadParameter("give either a dead-letter ID or --actor, not both")
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
    older_than: str = typer.Option(..., "--older-than", help="an age: 30d, 12h, 2w"),
) -> None:
    """Delete dead-letter records last seen longer ago than --older-than."""
    settings = load_settings()
    age = ops.parse_age(older_than)
    with _store(settings) as store:
        count, cutoff = ops.purge(store, older_than=age, clock=SystemClock())
    typer.echo(f"purged {count} dead letter(s) last seen before {_when(cutoff)} UTC")
