"""`maintenance relocate-recordings [--dry-run] [--json] [--retry-failed]`: the relocation sweep
by hand.

The same handler as the periodic actor, recorded in the job-run ledger as a manual run; the
recordings it queues are marked queued like the schedule's, so running it beside the schedule
queues nothing twice. `--dry-run` counts the recordings due and queues nothing.
`--retry-failed` first gives the recordings marked failed (bad input fixed, a media server
added to ARI_HOSTS, attempts used up) a new budget of attempts.
"""

from __future__ import annotations

import getpass
import json
import logging

import typer

from lineblocs_maintenance import bootstrap, handlers
from lineblocs_maintenance.relocation.records import retry_failed
from lineblocs_maintenance.relocation.sweep import RelocationSweepReport
from lineblocs_shared.db import ping
from lineblocs_shared.errors import ConfigError
from lineblocs_shared.queue.broker import ping_broker
from lineblocs_shared.queue.bulk import BulkPublisher
from lineblocs_shared.settings import load_settings

log = logging.getLogger(__name__)


def relocate_recordings_command(
    dry_run: bool = typer.Option(False, "--dry-run", help="queue nothing; count what is due"),
    as_json: bool = typer.Option(False, "--json", help="print the report as one JSON object"),
    retry_failed_too: bool = typer.Option(
        False, "--retry-failed", help="first give recordings marked failed new attempts"
    ),
) -> None:
    """Queue one relocation message per finalized recording still on a media server."""
    deps = bootstrap.build(load_settings())
    try:
        ping(deps.engine)
        if retry_failed_too and not dry_run:
            count = retry_failed(deps.engine)
            log.warning("%d failed recording(s) given new attempts by %s", count, _who())
        report = _run(deps, dry_run=dry_run)
    finally:
        deps.engine.dispose()
    _print(report, as_json=as_json)
    if report.failed:
        raise typer.Exit(1)


def _run(deps: bootstrap.Maintenance, *, dry_run: bool) -> RelocationSweepReport:
    if dry_run:
        return handlers.relocations_due(deps)
    if deps.settings.uses_embedded_broker:
        raise ConfigError(
            "relocate-recordings needs RabbitMQ (QUEUE_URL=amqp://…) to hand the recordings to "
            "the workers; use --dry-run to see what is due"
        )
    ping_broker(deps.settings)
    publisher = BulkPublisher.from_settings(deps.settings)
    try:
        found = handlers.relocate_recordings(deps, publisher)
    except handlers.RelocationSweepIncomplete as incomplete:
        found = incomplete.report
    assert found is not None  # a manual run has a key of its own: nobody else holds it
    return found


def _print(report: RelocationSweepReport, *, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps({**report.summary(), "sample": report.sample}))
        return
    verb = "would queue" if report.dry_run else "queued"
    for recording_id in report.sample:
        typer.echo(f"{verb}: recording {recording_id}")
    if report.found > len(report.sample):
        typer.echo(f"... and {report.found - len(report.sample)} more")
    typer.echo(
        f"relocate-recordings at {report.now}: {report.found} due, {report.enqueued} enqueued"
        + (f", {report.failed} NOT enqueued" if report.failed else "")
    )


def _who() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
