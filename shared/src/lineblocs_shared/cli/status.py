"""`lineblocs-jobs status`: the last runs of each job from the job-run ledger."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text
from sqlalchemy.exc import OperationalError, ProgrammingError

from lineblocs_shared.cli.output import JSON_HELP, piped, print_json_lines, print_tsv
from lineblocs_shared.clock import SystemClock
from lineblocs_shared.db import make_engine, ping
from lineblocs_shared.db.uow import LedgerUnit
from lineblocs_shared.errors import ConfigError, SchemaError
from lineblocs_shared.models.jobs import JobRun, RunState
from lineblocs_shared.settings import load_settings

ERROR_WIDTH = 60
COLUMNS = ("job", "run key", "state", "attempts", "started (UTC)", "duration", "lag", "last error")
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
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Show each job's last runs: period, state, attempts, duration, lag and last error."""
    settings = load_settings()
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        ping(engine)
        with LedgerUnit(engine) as uow:
            latest = uow.job_runs.latest_by_job(limit=limit, job=job)
            if job is not None and not latest:
                known = ", ".join(uow.job_runs.latest_by_job(limit=1)) or "none yet"
                raise ConfigError(f"no job {job!r} in the ledger (jobs with runs: {known})")
    except (OperationalError, ProgrammingError) as exc:
        # The ping passed, so a failing query means our tables are missing or outdated.
        raise SchemaError(
            f"cannot read the job-run ledger ({str(exc.orig).splitlines()[0]}): "
            "run `lineblocs-jobs db upgrade`"
        ) from None
    finally:
        engine.dispose()
    now = SystemClock().now()
    if as_json:
        print_json_lines(run_document(run, now=now) for runs in latest.values() for run in runs)
    elif not latest:
        typer.echo("no runs recorded")
    elif piped():
        print_tsv(COLUMNS, [run_cells(run, now=now) for runs in latest.values() for run in runs])
    else:
        Console().print(runs_table(latest, now=now))


def run_cells(run: JobRun, *, now: datetime) -> list[str]:
    return [
        run.job,
        run.run_key,
        str(run.state),
        str(run.attempts),
        f"{run.started_at:%Y-%m-%d %H:%M:%S}" if run.started_at else "-",
        duration(run, now=now),
        lag(run),
        _truncate(run.last_error),
    ]


def run_document(run: JobRun, *, now: datetime) -> dict[str, Any]:
    """A line of `status --json`: the run's times, and its duration and lag in seconds."""
    finished = now if run.state == RunState.RUNNING else run.finished_at
    took = finished - run.started_at if run.started_at and finished else None
    late = run.started_at - run.scheduled_for if run.started_at and run.scheduled_for else None
    return {
        "job": run.job,
        "run_key": run.run_key,
        "state": str(run.state),
        "attempts": run.attempts,
        "scheduled_for": run.scheduled_for,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "duration_s": took.total_seconds() if took is not None else None,
        "lag_s": late.total_seconds() if late is not None else None,
        "last_error": run.last_error,
    }


def runs_table(latest: dict[str, list[JobRun]], *, now: datetime) -> Table:
    table = Table(title="Job runs (newest first)", title_justify="left")
    for column in COLUMNS[:-1]:
        table.add_column(column, no_wrap=True)
    table.add_column(COLUMNS[-1], no_wrap=True, overflow="ellipsis", max_width=ERROR_WIDTH)
    for runs in latest.values():
        for run in runs:
            cells: list[Text] = [Text(cell) for cell in run_cells(run, now=now)]
            cells[2].stylize(STATE_STYLES.get(RunState(run.state), ""))
            table.add_row(*cells)
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
