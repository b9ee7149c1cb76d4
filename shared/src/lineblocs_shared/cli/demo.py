"""`lineblocs-jobs demo`: the whole system on embedded defaults, printed as a few tables."""

from __future__ import annotations

import contextlib
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from lineblocs_shared.clock import FixedClock, SystemClock
from lineblocs_shared.demo.runner import DemoContext, prepare, run_services
from lineblocs_shared.registry import installed_services


def demo(
    database: Path = typer.Option(
        Path("lineblocs-demo.sqlite3"), help="SQLite file to (re)create for the demo"
    ),
    now: datetime | None = typer.Option(
        None, formats=["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"], help="pretend it is this UTC instant"
    ),
) -> None:
    """Run the jobs on a fresh SQLite database with an in-process broker and worker threads."""
    console = Console()
    clock = FixedClock(now.replace(tzinfo=UTC)) if now else SystemClock()
    started = time.perf_counter()
    ctx = prepare(database, clock=clock)
    console.print(f"[bold]Lineblocs jobs demo[/] — {database} at {clock.now():%Y-%m-%d %H:%M} UTC")
    _print_dataset(console, ctx)
    ran = run_services(ctx, list(installed_services().values()))
    for section in ctx.sections:
        table = Table(title=section.title, title_justify="left")
        for column in section.columns:
            table.add_column(column)
        for row in section.rows:
            table.add_row(*row)
        console.print(table)
    elapsed = time.perf_counter() - started
    console.print(f"services run: {', '.join(ran) or 'none'} — done in {elapsed:.1f}s")
    _print_next_steps(console, database)


# What to look at after the demo: each command reads the demo's database, not the default one.
EXPLORE = (
    ("the runs of every job", "status"),
    ("the mails sent", "notifications list"),
    ("dead letters: the recording its media server lost", "dlq list"),
    ("the outbox", "outbox status"),
    ("who the user cleanup would delete", "maintenance cleanup-users --dry-run"),
)


def explore_commands(database: Path) -> list[tuple[str, str]]:
    """(what, shell command) pairs that run against the demo's database as written."""
    cli = Path(sys.executable).with_name("lineblocs-jobs")
    with contextlib.suppress(ValueError):  # shown relative to here when it is below
        cli = Path(".") / cli.relative_to(Path.cwd())
    url = f"sqlite:///{database.resolve()}"
    return [(what, f"DATABASE_URL={url} {cli} {command}") for what, command in EXPLORE]


def _print_next_steps(console: Console, database: Path) -> None:
    console.print("\n[bold]Explore what the demo did[/] (same database):")
    for what, command in explore_commands(database):
        console.print(f"  # {what}\n  {command}", markup=False, highlight=False, soft_wrap=True)


def _print_dataset(console: Console, ctx: DemoContext) -> None:
    table = Table(title="Seeded Lineblocs data", title_justify="left")
    table.add_column("what")
    table.add_column("rows", justify="right")
    data = ctx.dataset
    for what, count in (
        ("service plans", len(data.plans)),
        ("workspaces", len(data.workspaces)),
        ("subscriptions", len(data.subscriptions)),
        *sorted(data.counts.items()),
    ):
        table.add_row(what.replace("_", " "), str(count))
    console.print(table)
