"""`lineblocs-jobs status`: each job's last runs, read from the ledger."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, datetime, timedelta

import pendulum
import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from lineblocs_shared.cli.app import app
from lineblocs_shared.clock import FixedClock
from lineblocs_shared.reliability.periodic.jobs import PeriodicJob, Trigger
from lineblocs_shared.reliability.periodic.runner import Period, PeriodicRunner
from tests.support.cli import CLI, run_cli

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 23, 3, 15, tzinfo=UTC)
PURGE = PeriodicJob(name="maintenance.purge_logs", cron="15 3 * * *", catch_up="latest")
REPORT = PeriodicJob(name="billing.report", cron="15 3 * * *", catch_up="all")


def tick(at: datetime, message_id: str) -> Trigger:
    return Trigger(scheduled_at=str(pendulum.instance(at)), message_id=message_id)


def fill_ledger(engine: Engine) -> None:
    """Day 0 and day 3 of the purge (days 1-2 skipped), a report whose run failed."""

    def purge(period: Period) -> dict[str, object]:
        return {"deleted": 3}

    def failing_report(period: Period) -> dict[str, object]:
        raise RuntimeError("smtp refused the connection: 421 too many connections " + "x" * 80)

    late = PeriodicRunner(engine=engine, clock=FixedClock(T0 + timedelta(seconds=42)))
    late.run(PURGE, purge, trigger=tick(T0, "p0"))
    later = PeriodicRunner(engine=engine, clock=FixedClock(T0 + timedelta(days=3, minutes=2)))
    later.run(PURGE, purge, trigger=tick(T0 + timedelta(days=3), "p3"))
    with pytest.raises(RuntimeError):
        late.run(REPORT, failing_report, trigger=tick(T0, "r0"))


def invoke(engine: Engine, *args: str) -> str:
    env = {"DATABASE_URL": engine.url.render_as_string(hide_password=False)}
    result = CliRunner().invoke(app, ["status", *args], env=env)
    assert result.exit_code == 0, result.output
    return result.output


def table_rows(output: str) -> list[list[str]]:
    """The data cells of the piped table (a header line, then tab-separated rows)."""
    header, *rows = [line.split("\t") for line in output.splitlines()]
    assert header[0] == "job"
    assert all(len(row) == len(header) == 8 for row in rows)
    return rows


def test_status_shows_each_jobs_last_runs_with_state_duration_and_lag(jobs_engine: Engine) -> None:
    fill_ledger(jobs_engine)

    rows = table_rows(invoke(jobs_engine))

    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        ("billing.report", "2026-11-23T03:15Z", "failed", "1"),
        ("maintenance.purge_logs", "2026-11-26T03:15Z", "succeeded", "1"),
        ("maintenance.purge_logs", "2026-11-25T03:15Z", "skipped", "0"),
        ("maintenance.purge_logs", "2026-11-24T03:15Z", "skipped", "0"),
        ("maintenance.purge_logs", "2026-11-23T03:15Z", "succeeded", "1"),
    ]
    report, newest_purge, skipped, _, first_purge = rows
    assert newest_purge[4:7] == ["2026-11-26 03:17:00", "0s", "2m00s"]  # started, duration, lag
    assert first_purge[6] == "42s"
    assert skipped[4:7] == ["-", "-", "-"]
    assert report[7].startswith("RuntimeError: smtp refused the connection")
    assert report[7].endswith("…")  # truncated to one short line


def test_status_filters_by_job_and_limits_the_runs(jobs_engine: Engine) -> None:
    fill_ledger(jobs_engine)

    rows = table_rows(invoke(jobs_engine, "--job", "maintenance.purge_logs", "--limit", "2"))

    assert [(r[0], r[1]) for r in rows] == [
        ("maintenance.purge_logs", "2026-11-26T03:15Z"),
        ("maintenance.purge_logs", "2026-11-25T03:15Z"),
    ]


def test_status_as_json_lines_and_an_unknown_job_in_one_line(jobs_engine: Engine) -> None:
    fill_ledger(jobs_engine)

    lines = invoke(jobs_engine, "--json", "--job", "maintenance.purge_logs", "--limit", "1")
    unknown = run_cli(jobs_engine, "status", "--job", "nobody.ever")

    [run] = [json.loads(line) for line in lines.splitlines()]
    assert (run["job"], run["run_key"], run["state"]) == (
        "maintenance.purge_logs",
        "2026-11-26T03:15Z",
        "succeeded",
    )
    assert (run["duration_s"], run["lag_s"]) == (0.0, 120.0)
    assert run["started_at"].startswith("2026-11-26T03:17:00")
    assert unknown.returncode == 1
    assert unknown.stderr.strip() == (
        "lineblocs-jobs: no job 'nobody.ever' in the ledger "
        "(jobs with runs: billing.report, maintenance.purge_logs)"
    )


def test_status_without_our_tables_fails_in_one_line(lineblocs_engine: Engine) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["DATABASE_URL"] = lineblocs_engine.url.render_as_string(hide_password=False)
    result = subprocess.run(
        [CLI, "status"], env=env, capture_output=True, text=True, timeout=60, check=False
    )

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("lineblocs-jobs: cannot read the job-run ledger")
    assert line.endswith("run `lineblocs-jobs db upgrade`")
