"""How the commands print, for people and for scripts (README, "Scripting the CLI").

`--json`: a command about one thing prints one JSON object; a command that lists prints one JSON
object per line (JSON Lines), so `| head` and `jq -c` work on a long list. No rich markup, no
colour, nothing else on stdout.

Tables: on a terminal, a rich table. Piped (less, grep, cut, a CI log), a header line then one
tab-separated line per row: a record per line, never wrapped into folded cells.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

JSON_HELP = "print JSON: one object, or one object per line for a list; no markup"


def _plain(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def print_json(document: Mapping[str, Any]) -> None:
    typer.echo(json.dumps(document, default=_plain))


def print_json_lines(rows: Iterable[Mapping[str, Any]]) -> None:
    for row in rows:
        print_json(row)


def piped() -> bool:
    return not sys.stdout.isatty()


def print_tsv(columns: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    """A header line, then a line per row; tabs and newlines inside a cell become spaces."""
    for cells in (columns, *rows):
        typer.echo("\t".join(" ".join(cell.split()) if cell else "-" for cell in cells))


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A rich table on a terminal, tab-separated lines when piped."""
    if piped():
        print_tsv(columns, rows)
        return
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    for cells in rows:
        # Text, not str: an error message like `list[int]` is not rich markup.
        table.add_row(*(Text(cell) for cell in cells))
    Console().print(table)
