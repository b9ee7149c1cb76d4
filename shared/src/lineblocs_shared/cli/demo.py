"""`lineblocs-jobs demo`: the whole system on embedded defaults, printed as a few tables."""

from __future__ import annotations

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
