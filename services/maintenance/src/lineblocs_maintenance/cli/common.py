"""What the maintenance commands share: the service's dependencies for the command's lifetime,
a progress display on stderr, and the output (a summary line, or JSON)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from lineblocs_maintenance import bootstrap
from lineblocs_maintenance.batches import OnBatch
from lineblocs_maintenance.bootstrap import Maintenance
from lineblocs_shared.db import ping
from lineblocs_shared.db.engine import make_engine
from lineblocs_shared.settings import load_settings

DRY_RUN_HELP = "delete nothing: report what would go (and, for users, why the rest stays)"
JSON_HELP = "print the result as one JSON object instead of a summary line"


@contextmanager
def maintenance() -> Iterator[Maintenance]:
    settings = load_settings()
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        ping(engine)
        yield bootstrap.build(settings, engine=engine)
    finally:
        engine.dispose()


@contextmanager
def progress(title: str, *, quiet: bool) -> Iterator[OnBatch | None]:
    """An `OnBatch` that shows rows deleted so far, per table (nothing with `quiet`)."""
    if quiet:
        yield None
        return
    columns = (
        SpinnerColumn(),
        TextColumn(f"[bold]{title}[/] {{task.description}}: {{task.completed:,.0f}} rows"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        tasks: dict[str, TaskID] = {}

        def on_batch(table: str, rows: int) -> None:
            if table not in tasks:
                tasks[table] = bar.add_task(table, total=None)
            bar.update(tasks[table], advance=rows)

        yield on_batch


def emit(result: dict[str, Any], *, as_json: bool, line: str) -> None:
    """The command's result: a JSON object (for scripts), or one summary line (for people)."""
    typer.echo(json.dumps(result, default=str) if as_json else line)
