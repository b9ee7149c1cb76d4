"""What the dead-letter recorder tells the job-run ledger: this message's runs are dead."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import Engine

from lineblocs_shared.db.uow import LedgerUnit


class RunLedger(Protocol):
    def mark_dead(self, *, message_id: str, error: str) -> int:
        """Unfinished runs of `message_id` become DEAD; returns how many."""
        ...


class SqlRunLedger:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def mark_dead(self, *, message_id: str, error: str) -> int:
        with LedgerUnit(self._engine) as uow:
            count = uow.job_runs.mark_dead_for_message(message_id=message_id, error=error)
            uow.commit()
        return count


class RecordingRunLedger:
    """Fake for tests: remembers what it was told."""

    def __init__(self) -> None:
        self.dead: list[tuple[str, str]] = []

    def mark_dead(self, *, message_id: str, error: str) -> int:
        self.dead.append((message_id, error))
        return 1
