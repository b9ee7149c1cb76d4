"""`notifications run SWEEP [--now ISO-8601] [--dry-run]`: one sweep by hand.

The same handler as the periodic actor, recorded in the job-run ledger as a manual run: the
mails it finds go through the same ledger claims as the schedule's, so running it beside the
schedule sends nothing twice. `--dry-run` lists what it would send and claims nothing.
"""

from __future__ import annotations

import typer

from lineblocs_notifications import handlers
from lineblocs_notifications.cli.common import notifications
from lineblocs_notifications.sweeps.base import MailSweepReport
from lineblocs_notifications.sweeps.catalog import SWEEPS
from lineblocs_shared.cli.options import parse_instant
from lineblocs_shared.errors import ConfigError
from lineblocs_shared.queue.broker import ping_broker
from lineblocs_shared.queue.bulk import BulkPublisher
from lineblocs_shared.reliability.periodic.jobs import Trigger


def run(
    sweep: str = typer.Argument(..., help="one of: " + ", ".join(SWEEPS)),
    now: str | None = typer.Option(
        None, "--now", help="apply the rules at this instant (ISO-8601, UTC unless zoned)"
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="send nothing; print what would go"),
) -> None:
    """Find the mails one sweep would send now, and send one message per mail."""
    if sweep not in SWEEPS:
        raise ConfigError(f"no sweep {sweep!r}: one of {', '.join(SWEEPS)}")
    at = parse_instant(now)
    with notifications() as deps:
        if dry_run:
            report = handlers.dry_run(deps, SWEEPS[sweep], now=at)
        else:
            if deps.settings.uses_embedded_broker:
                raise ConfigError(
                    "notifications run needs RabbitMQ (QUEUE_URL=amqp://…) to hand the mails to "
                    "the workers; use --dry-run to see what would be sent"
                )
            ping_broker(deps.settings)
            publisher = BulkPublisher.from_settings(deps.settings)
            try:
                found = handlers.sweep(deps, SWEEPS[sweep], publisher, trigger=Trigger(), now=at)
            except handlers.MailSweepIncomplete as incomplete:
                found = incomplete.report
            assert found is not None  # a manual run has a key of its own: nobody else holds it
            report = found
    _print(report)
    if report.failed:
        raise typer.Exit(1)


def _print(report: MailSweepReport) -> None:
    verb = "would send" if report.dry_run else "sent"
    for key in report.sample:
        typer.echo(f"{verb}: {key}")
    due = report.found - report.known
    if due > len(report.sample):
        typer.echo(f"... and {due - len(report.sample)} more")
    typer.echo(
        f"notifications run {report.sweep} at {report.now}: {report.found} due, "
        f"{report.known} already in the ledger, {report.enqueued} enqueued"
        + (f", {report.failed} NOT enqueued" if report.failed else "")
    )
