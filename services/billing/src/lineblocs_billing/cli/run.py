"""`lineblocs-jobs billing run [--now ISO-8601] [--dry-run] [--json]`: the hourly distribution.

The same handler as the periodic actor, recorded in the job-run ledger as a manual run. A
progress bar goes to stderr, one summary line (or, with --json, one JSON object and no progress)
to stdout; the exit status is 1 when any bill message was not confirmed by RabbitMQ.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from lineblocs_billing import bootstrap
from lineblocs_billing.distribution.distributor import DistributionReport, Distributor, distribute
from lineblocs_billing.distribution.scan import count_billable
from lineblocs_billing.handlers import DistributionIncomplete, distribute_bills
from lineblocs_shared.cli.options import parse_instant
from lineblocs_shared.cli.output import JSON_HELP, print_json
from lineblocs_shared.contracts import Message
from lineblocs_shared.db import ping
from lineblocs_shared.errors import ConfigError
from lineblocs_shared.queue.broker import ping_broker
from lineblocs_shared.queue.bulk import BulkPublisher, BulkResult, MessagePublisher
from lineblocs_shared.reliability.periodic.jobs import Trigger
from lineblocs_shared.settings import Settings, load_settings

FAILURES_SHOWN = 5


def run(
    now: str | None = typer.Option(
        None,
        "--now",
        help=(
            "bill as if it were this instant (ISO-8601, UTC unless a zone is given; not in the "
            "future): each bill message carries it, and workers judge the period by it"
        ),
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="publish nothing; print what would be enqueued"
    ),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Enqueue one bill message per billable subscription and due period."""
    at = parse_instant(now)
    deps = bootstrap.build(load_settings(), pool_size=1)
    try:
        if at is not None and at > deps.clock.now() and not dry_run:
            raise ConfigError(
                f"--now {at.isoformat()} is in the future: that would bill periods that have "
                "not ended yet (billing is in arrears); use it with --dry-run"
            )
        ping(deps.engine)
        publisher = _publisher(deps.settings, dry_run=dry_run)
        distributor = Distributor(engine=deps.engine, clock=deps.clock, publisher=publisher)
        report = _distribute_with_progress(distributor, now=at, dry_run=dry_run, quiet=as_json)
    finally:
        deps.engine.dispose()
    if as_json:
        print_json(report_document(report))
    else:
        _print(report)
    if report.failed:
        raise typer.Exit(1)


class NoPublishing:
    """The publisher of a dry run: a dry run plans only, and this proves it."""

    def publish(self, messages: Iterable[Message]) -> BulkResult:
        raise AssertionError("a dry run publishes nothing")


def _publisher(settings: Settings, *, dry_run: bool) -> MessagePublisher:
    if dry_run:
        return NoPublishing()
    if settings.uses_embedded_broker:
        raise ConfigError(
            "billing run needs RabbitMQ (QUEUE_URL=amqp://…): the in-process broker exists only "
            "inside `lineblocs-jobs demo`; use --dry-run to see what would be enqueued"
        )
    ping_broker(settings)
    return BulkPublisher.from_settings(settings)


def _distribute_with_progress(
    distributor: Distributor, *, now: datetime | None, dry_run: bool, quiet: bool
) -> DistributionReport:
    at = now or distributor.clock.now()
    total = count_billable(distributor.engine, now=at)
    with Progress(
        TextColumn("[bold]billing run[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("subscriptions · {task.fields[due]} periods due"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
        disable=quiet,
    ) as progress:
        task: TaskID = progress.add_task("scan", total=total, due=0)

        def advance(page: int, report: DistributionReport) -> None:
            progress.update(task, advance=page, due=report.due)

        if dry_run:
            return distribute(distributor, now=at, dry_run=True, progress=advance)
        try:
            report = distribute_bills(distributor, trigger=Trigger(), now=at, progress=advance)
        except DistributionIncomplete as incomplete:
            return incomplete.report
    assert report is not None  # a manual run has a key of its own: nobody else holds it
    return report


def _print(report: DistributionReport) -> None:
    if report.dry_run:
        for bill in report.sample:
            typer.echo(
                f"would enqueue subscription {bill.subscription_id} (workspace "
                f"{bill.workspace_id}, {bill.period.cycle}) "
                f"{bill.period.start.isoformat()} -> {bill.period.end.isoformat()} "
                f"as message {bill.message_id}"
            )
        if report.to_enqueue > len(report.sample):
            typer.echo(f"... and {report.to_enqueue - len(report.sample)} more")
    for failure in report.failed[:FAILURES_SHOWN]:
        typer.secho(
            f"not enqueued: message {failure.message_id}: {failure.reason}",
            err=True,
            fg=typer.colors.RED,
        )
    if len(report.failed) > FAILURES_SHOWN:
        more = len(report.failed) - FAILURES_SHOWN
        typer.secho(f"... and {more} more not enqueued", err=True, fg=typer.colors.RED)
    typer.echo(f"billing run: {report.line()}")


def report_document(report: DistributionReport) -> dict[str, Any]:
    """`billing run --json`: the ledger's summary, the bills a dry run would enqueue (the first
    few), and every message RabbitMQ did not confirm."""
    return {
        **report.summary(),
        "dry_run": report.dry_run,
        "to_enqueue": report.to_enqueue,
        "sample": [
            {
                "subscription_id": bill.subscription_id,
                "workspace_id": bill.workspace_id,
                "cycle": bill.period.cycle.value,
                "period_start": bill.period.start,
                "period_end": bill.period.end,
                "message_id": bill.message_id,
            }
            for bill in report.sample
        ],
        "not_enqueued": [
            {"message_id": failure.message_id, "reason": failure.reason}
            for failure in report.failed
        ],
    }
