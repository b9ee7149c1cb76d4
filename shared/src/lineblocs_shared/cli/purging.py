"""Destructive commands show what they will delete (a count and the oldest few) and ask first.

`--yes` skips the question, for scripts. A zero age is refused: it would delete the records of a
failure still going on (dead letters) or the de-duplication of a redelivery in flight (outbox).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import typer
from sqlalchemy import Engine, func, select
from sqlmodel import Session, col

from lineblocs_shared.errors import ConfigError, ExpectedFailure
from lineblocs_shared.reliability.failures.operations import parse_age

YES_HELP = "delete without asking (for scripts)"
SAMPLE_SHOWN = 5


class NotConfirmed(ExpectedFailure):
    """The operator did not confirm a deletion: nothing was deleted."""


def purge_cutoff(older_than: str, *, now: datetime) -> datetime:
    age = parse_age(older_than)
    if not age:
        raise ConfigError(
            f"--older-than {older_than} would delete everything up to this second, "
            "including records still in use: give an age above zero"
        )
    return now - age


def rows_before(engine: Engine, column: Any, before: datetime) -> tuple[int, list[Any]]:
    """How many rows have `column` before `before`, and the oldest few of them."""
    older = col(column) < before
    with Session(engine) as session:
        count = session.execute(select(func.count()).where(older)).scalar_one()
        sample = select(column.class_).where(older).order_by(col(column)).limit(SAMPLE_SHOWN)
        return count, list(session.execute(sample).scalars().all())


def confirm_deletion(*, count: int, what: str, sample: Sequence[str], yes: bool) -> None:
    """Show the count and sample on stderr, then ask unless `yes`; raises NotConfirmed.

    Rows are counted before the question and deleted by the same cutoff, so what is deleted is
    at most what was shown (a record seen again meanwhile is newer, and stays).
    """
    typer.echo(f"{count} {what} to delete", err=True)
    for line in sample:
        typer.echo(f"  {line}", err=True)
    if count > len(sample):
        typer.echo(f"  ... and {count - len(sample)} more", err=True)
    if yes or not count:
        return
    # Not typer.confirm: it echoes a space on stdout, which belongs to the result line.
    typer.echo("Delete them? [y/N] ", err=True, nl=False)
    if sys.stdin.readline().strip().lower() not in ("y", "yes"):
        raise NotConfirmed("nothing deleted (not confirmed; --yes skips the question)")
