"""`lineblocs-jobs outbox …`: relay committed outbox messages to RabbitMQ, and watch the backlog.

Workers relay on their own (a thread per worker process); `outbox relay` is for a host without
workers, or to drain a backlog by hand.
"""

from __future__ import annotations

import signal
import threading
from datetime import datetime
from types import FrameType

import typer

from lineblocs_shared.cli import outbox_views
from lineblocs_shared.cli.connection import connected_engine
from lineblocs_shared.cli.purging import YES_HELP, confirm_deletion, purge_cutoff, rows_before
from lineblocs_shared.clock import SystemClock
from lineblocs_shared.errors import ConfigError
from lineblocs_shared.models.jobs import OutboxMessage, ProcessedEvent
from lineblocs_shared.reliability.observability.logs import configure_logging
from lineblocs_shared.reliability.outbox.backlog import outbox_stats, purge_published
from lineblocs_shared.reliability.outbox.inbox import purge_processed
from lineblocs_shared.reliability.outbox.middleware import relay_publisher
from lineblocs_shared.reliability.outbox.publishers import (
    confirmed_publishing_broker,
)
from lineblocs_shared.reliability.outbox.relay import DEFAULT_BATCH_SIZE, OutboxRelay, run_relay
from lineblocs_shared.settings import load_settings

app = typer.Typer(no_args_is_help=True, help="Transactional outbox: relay, list, show, purge.")


app.command("list")(outbox_views.list_)
app.command("show")(outbox_views.show)


@app.command("relay")
def relay(
    once: bool = typer.Option(False, "--once", help="one pass, then exit"),
    interval: float = typer.Option(1.0, min=0.05, help="seconds between passes when idle"),
    batch_size: int = typer.Option(DEFAULT_BATCH_SIZE, min=1, max=10_000, help="rows per pass"),
) -> None:
    """Publish committed outbox messages with broker confirms; loop until SIGTERM/Ctrl-C."""
    settings = load_settings()
    if settings.uses_embedded_broker:
        # memory:// lives in one process: messages published here would reach no worker.
        raise ConfigError("outbox relay publishes to RabbitMQ: set QUEUE_URL=amqp://…")
    configure_logging(settings)
    broker = confirmed_publishing_broker(settings.queue_url)
    try:
        with connected_engine(settings) as engine:
            outbox_relay = OutboxRelay(engine, relay_publisher(broker, settings))
            if once:
                result = outbox_relay.relay_once(batch_size)
                typer.echo(
                    f"published {result.published}, failed {result.failed}, left {result.backlog}"
                )
                if result.failed:
                    raise typer.Exit(1)
                return
            run_relay(
                outbox_relay,
                interval_s=interval,
                stop_event=_stop_on_signals(),
                batch_size=batch_size,
            )
    finally:
        broker.close()


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    return stop


@app.command("status")
def status() -> None:
    """Backlog: messages committed but not yet published, the oldest one's age, failing ones."""
    settings = load_settings()
    with connected_engine(settings) as engine:
        stats = outbox_stats(engine)
    now = SystemClock().now()
    typer.echo(f"backlog: {stats.backlog} unpublished message(s)")
    typer.echo(f"oldest unpublished: {_age(stats.oldest_unpublished_at, now)}")
    typer.echo(f"failing: {stats.failing} (last publish attempt failed)")


def _age(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "-"
    seconds = max(0, int((now - moment).total_seconds()))
    return f"{seconds}s ago ({moment:%Y-%m-%d %H:%M:%S} UTC)"


@app.command("purge")
def purge(
    older_than: str = typer.Option("30d", "--older-than", help="an age: 30d, 12h, 2w"),
    yes: bool = typer.Option(False, "--yes", help=YES_HELP),
) -> None:
    """Delete published outbox rows and processed-event records older than --older-than.

    Shows how many rows go (and the oldest few) and asks first, unless --yes.
    """
    settings = load_settings()
    cutoff = purge_cutoff(older_than, now=SystemClock().now())
    with connected_engine(settings) as engine:
        count, sample = rows_before(engine, OutboxMessage.published_at, cutoff)
        events, _ = rows_before(engine, ProcessedEvent.processed_at, cutoff)
        confirm_deletion(
            count=count,
            what=f"published outbox message(s) (and {events} processed event(s))",
            sample=[" ".join(outbox_views.cells(message)[:5]) for message in sample],
            yes=yes,
        )
        outbox_rows = purge_published(engine, before=cutoff)
        processed = purge_processed(engine, before=cutoff)
    typer.echo(
        f"purged {outbox_rows} published outbox message(s) and {processed} processed event(s) "
        f"older than {cutoff:%Y-%m-%d %H:%M:%S} UTC"
    )
