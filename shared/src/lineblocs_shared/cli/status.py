"""`lineblocs-jobs status`: the last runs of each job from the job-run ledger."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import OperationalError, ProgrammingError

from lineblocs_shared.clock import SystemClock
from lineblocs_shared.db import make_engine, ping
from lineblocs_shared.db.uow import LedgerUnit
from lineblocs_shared.errors import SchemaError
from lineblocs_shared.models.jobs import JobRun, RunState
from lineblocs_shared.settings import load_settings

ERROR_WIDTH = 60
STATE_STYLES = {
    RunState.SUCCEEDED: "green",
    RunState.RUNNING: "cyan",
    RunState.QUEUED: "cyan",
    RunState.SKIPPED: "dim",
    RunState.FAILED: "yellow",
    RunState.DEAD: "bold red",
}


def status(
    job: str | None = typer.Option(None, help="only this job, e.g. maintenance.purge_logs"),
    limit: int = typer.Option(5, min=1, max=1000, help="runs shown per job"),
) -> None:
    """Show each job's last runs: period, state, attempts, duration, lag and last error."""
    settings = load_settings()
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        ping(engine)
        with LedgerUnit(engine) as uow:
            latest = uow.job_runs.latest_by_job(limit=limit, job=job)
    except (OperationalError, ProgrammingError) as exc:
        # The ping passed, so a failing query means our tables are missing or outdated.
        raise SchemaError(
            f"cannot read the job-run ledger ({str(exc.orig).splitlines()[0]}): "
            "run `lineblocs-jobs db upgrade`"
        ) from None
    finally:
        engine.dispose()
    if not latest:
        typer.echo(f"no runs recorded{f' for {job}' if job else ''}")
        return
    # Piped output (less, grep, a CI log) gets a width that fits a row on one line.
    console = Console(width=None if sys.stdout.isatty() else 180)
    console.print(runs_table(latest, now=SystemClock().now()))


def runs_table(latest: dict[str, list[JobRun]], *, now: datetime) -> Table:
    table = Table(title="Job runs (newest first)", title_justify="left")
    for column in ("job", "run key", "state", "attempts", "started (UTC)", "duration", "lag"):
        table.add_column(column, no_wrap=True)
    table.add_column("last error", no_wrap=True, overflow="ellipsis", max_width=ERROR_WIDTH)
    for job, runs in latest.items():
        for run in runs:
            style = STATE_STYLES.get(RunState(run.state), "")
            table.add_row(
                job,
                run.run_key,
                f"[{style}]{run.state}[/]" if style else str(run.state),
                str(run.attempts),
                f"{run.started_at:%Y-%m-%d %H:%M:%S}" if run.started_at else "-",
                duration(run, now=now),
                lag(run),
                _truncate(run.last_error),
            )
        table.add_section()
    return table


def duration(run: JobRun, *, now: datetime) -> str:
    """How long the last attempt took, or has taken so far while it runs."""
    if run.started_at is None:
        return "-"
    if run.state == RunState.RUNNING:
        return f"{_human(now - run.started_at)} so far"
    if run.finished_at is None or run.finished_at < run.started_at:
        return "-"
    return _human(run.finished_at - run.started_at)


def lag(run: JobRun) -> str:
    """How late a periodic run started: its last attempt's start minus its tick."""
    if run.scheduled_for is None or run.started_at is None:
        return "-"
    return _human(run.started_at - run.scheduled_for)


def _human(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    sign, seconds = ("-", -seconds) if seconds < 0 else ("", seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{sign}{hours}h{minutes:02d}m"
    if minutes:
        return f"{sign}{minutes}m{secs:02d}s"
    return f"{sign}{secs}s"


def _truncate(error: str | None) -> str:
    if not error:
        return ""
    first_line = error.strip().splitlines()[0]
    return first_line if len(first_line) <= ERROR_WIDTH else first_line[: ERROR_WIDTH - 1] + "…"
