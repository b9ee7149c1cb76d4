"""The maintenance jobs by hand. A real run goes through the same handler as the schedule and
is recorded in the job-run ledger as a manual run; `--dry-run` claims and deletes nothing."""

from __future__ import annotations

import typer

from lineblocs_maintenance import handlers
from lineblocs_maintenance.cli.common import DRY_RUN_HELP, JSON_HELP, emit, maintenance, progress
from lineblocs_maintenance.users.cleanup import CleanupReport

USERS_SHOWN = 20


def purge_logs(
    days: int | None = typer.Option(
        None, "--days", min=1, max=3650, help="keep this many days (default LOG_RETENTION_DAYS)"
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help=DRY_RUN_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Delete debugger logs and user error traces older than the retention, in batches."""
    with maintenance() as deps, progress("purge-logs", quiet=as_json or dry_run) as on_batch:
        result = handlers.purge_logs(deps, retention_days=days, dry_run=dry_run, on_batch=on_batch)
    assert result is not None  # a manual run has a key of its own: nobody else holds it
    verb = "would delete" if dry_run else "deleted"
    emit(
        result.summary(),
        as_json=as_json,
        line=f"purge-logs: {verb} {result.debugger_logs} debugger logs and "
        f"{result.error_user_traces} error traces created before {result.cutoff}",
    )


def retention(
    dry_run: bool = typer.Option(False, "--dry-run", help=DRY_RUN_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Delete our own housekeeping rows past their retention (money and audit rows never)."""
    with maintenance() as deps, progress("retention", quiet=as_json or dry_run) as on_batch:
        result = handlers.retention(deps, dry_run=dry_run, on_batch=on_batch)
    assert result is not None  # a manual run has a key of its own: nobody else holds it
    verb = "would delete" if dry_run else "deleted"
    counts = ", ".join(f"{rows} from {table}" for table, rows in result.deleted.items())
    emit(
        {**result.summary(), "cutoffs": result.cutoffs},
        as_json=as_json,
        line=f"retention: {verb} {counts}",
    )


def cleanup_users(
    dry_run: bool = typer.Option(False, "--dry-run", help=DRY_RUN_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Delete users who never set their password; those with money or usage records stay."""
    with maintenance() as deps, progress("cleanup-users", quiet=as_json or dry_run) as on_batch:
        report = handlers.cleanup(deps, dry_run=dry_run, on_batch=on_batch)
    assert report is not None  # a manual run has a key of its own: nobody else holds it
    if as_json:
        verdicts = [vars(v) for v in report.verdicts]
        emit({**report.summary(), "users": verdicts}, as_json=True, line="")
        return
    _print_verdicts(report)


def _print_verdicts(report: CleanupReport) -> None:
    verb = "would delete" if report.dry_run else "deleted"
    for verdict in report.verdicts[:USERS_SHOWN]:
        if verdict.deleted:
            typer.echo(f"user {verdict.user_id}: {verb}")
        else:
            typer.echo(f"user {verdict.user_id}: kept ({', '.join(verdict.reasons)})")
    if len(report.verdicts) > USERS_SHOWN:
        typer.echo(f"... and {len(report.verdicts) - USERS_SHOWN} more (--json lists all)")
    typer.echo(
        f"cleanup-users: {verb} {report.deleted}, kept {report.kept} "
        f"(asked to set a password before {report.cutoff})"
    )
