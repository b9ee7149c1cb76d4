"""`lineblocs-jobs outbox list|show`: what the outbox holds, waiting or published (times UTC)."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

import typer

from lineblocs_shared.cli.connection import connected_engine
from lineblocs_shared.cli.output import JSON_HELP, print_json, print_json_lines, print_table
from lineblocs_shared.models.jobs import OutboxMessage
from lineblocs_shared.reliability.outbox.backlog import find_messages, get_message
from lineblocs_shared.settings import load_settings

COLUMNS = ("id", "created", "status", "queue", "actor", "attempts", "published", "last error")


class OutboxStatus(StrEnum):
    PENDING = "pending"
    PUBLISHED = "published"


def status_of(message: OutboxMessage) -> str:
    return OutboxStatus.PENDING if message.published_at is None else OutboxStatus.PUBLISHED


def summary(message: OutboxMessage) -> dict[str, Any]:
    """A row of `outbox list --json`; `outbox show --json` adds the payload."""
    return {
        "id": message.id,
        "event_id": message.event_id,
        "status": str(status_of(message)),
        "queue": message.queue_name,
        "actor": message.actor_name,
        "attempts": message.attempts,
        "created_at": message.created_at,
        "published_at": message.published_at,
        "last_error": message.last_error,
    }


def cells(message: OutboxMessage) -> list[str]:
    first_error_line = (message.last_error or "").strip().split("\n")[0][:80]
    return [
        str(message.id),
        f"{message.created_at:%Y-%m-%d %H:%M:%S}",
        str(status_of(message)),
        message.queue_name,
        message.actor_name,
        str(message.attempts),
        f"{message.published_at:%Y-%m-%d %H:%M:%S}" if message.published_at else "-",
        first_error_line,
    ]


def list_(
    status: OutboxStatus | None = typer.Option(None, help="only the pending or published ones"),
    limit: int = typer.Option(50, min=1, max=10_000, help="at most this many, newest first"),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """List outbox messages, newest first: pending (not yet relayed) or published."""
    published = None if status is None else status is OutboxStatus.PUBLISHED
    with connected_engine(load_settings()) as engine:
        messages = find_messages(engine, published=published, limit=limit)
    if as_json:
        print_json_lines(summary(message) for message in messages)
        return
    title = f"{len(messages)} outbox message(s)"
    print_table(title, COLUMNS, [cells(message) for message in messages])


def show(
    message_id: int = typer.Argument(..., help="id from `outbox list`"),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Everything recorded about one outbox message, its payload included."""
    with connected_engine(load_settings()) as engine:
        message = get_message(engine, message_id)
    document = {**summary(message), "payload": json.loads(message.payload)}
    if as_json:
        print_json(document)
        return
    for label, value in document.items():
        shown = json.dumps(value, sort_keys=True) if label == "payload" else value
        typer.echo(f"{label:<14}{'-' if value is None else shown}")
