"""`uv run python -m benchmarks --only log_purge`: the debugger-log purge on 1,000,000 rows.

The site never indexed `debugger_logs.created_at`. A throw-away MariaDB database gets
1,000,000 logs older than the retention cutoff and then 100,000 — or 1,000,000 — newer ones
(ids in creation order, as the site writes them); each contender deletes the old ones:

- **one unbatched DELETE** — the baseline: `DELETE … WHERE created_at < cutoff`, what the Go job
  did (minus its wrong cutoff). One statement, one transaction, every row locked to the end.
- **ours, no index** — `maintenance purge-logs`: one DELETE per window of
  `retention_batch_size` ids of the primary key, each committed.
- **ours, with an index on created_at** — the same after `CREATE INDEX` on the column: would
  an index of ours help? (It does not: every DELETE also updates it.)

Reported: rows deleted per second, the longest single statement and the longest DELETE (what
a lock wait or a replica's lag is made of). Goals, for ours as shipped (no index): ≥ 100,000
rows/s with 100,000 kept, and no statement over 300 ms whatever is kept.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, event, text

from benchmarks.invoice_preview import bench_database
from benchmarks.support import print_table, verdict
from lineblocs_maintenance.logs import purge_logs_before
from lineblocs_maintenance.settings import MaintenanceSettings
from lineblocs_shared.db.uow import UnitOfWork
from lineblocs_shared.models.tenants import User, Workspace

CUTOFF = datetime(2026, 11, 30, tzinfo=UTC)
GOAL_ROWS_PER_S = 100_000
GOAL_LONGEST_MS = 300.0
INDEX = "lbj_bench_debugger_logs_created_at"


@dataclass(frozen=True)
class Outcome:
    contender: str
    deleted: int
    seconds: float
    statements: int
    longest_ms: float
    longest_delete_ms: float
    kept: int

    @property
    def rows_per_s(self) -> float:
        return self.deleted / self.seconds if self.seconds else 0.0


class StatementTimer:
    """Times every statement the engine runs (SQLAlchemy cursor events)."""

    def __init__(self, engine: Engine) -> None:
        self.durations: list[tuple[str, float]] = []  # (first word of the statement, seconds)
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)
        self._engine = engine

    def _before(self, conn: Any, *_: Any) -> None:
        conn.info["bench_started"] = time.perf_counter()

    def _after(self, conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        elapsed = time.perf_counter() - conn.info.pop("bench_started")
        self.durations.append((statement.split(None, 1)[0].upper(), elapsed))

    def longest_ms(self, verb: str | None = None) -> float:
        times = [t for v, t in self.durations if verb is None or v == verb]
        return max(times, default=0.0) * 1000

    def close(self) -> None:
        event.remove(self._engine, "before_cursor_execute", self._before)
        event.remove(self._engine, "after_cursor_execute", self._after)


def _seed(engine: Engine, workspace_id: int, old: int, kept: int) -> None:
    """`old` logs a second apart before the cutoff, then `kept` after it (Sequence engine)."""
    insert = (
        "INSERT INTO debugger_logs (created_at, updated_at, `from`, `to`, title, report,"
        " workspace_id, api_id, level) SELECT :start + INTERVAL seq SECOND,"
        " :start + INTERVAL seq SECOND, '+15145550100', '+14165550199', 'call flow',"
        " 'a step of a call flow, as the debugger logs it', :ws, CONCAT(:tag, seq), 'info'"
        " FROM seq_1_to_{n}"
    )
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE TABLE debugger_logs"))  # no delete-marked rows left behind
        for n, start, tag in ((old, CUTOFF - timedelta(seconds=old + 1), "o"), (kept, CUTOFF, "k")):
            params = {"start": start.replace(tzinfo=None), "ws": workspace_id, "tag": tag}
            conn.execute(text(insert.format(n=n)), params)
        # A table the site fills a row at a time has current statistics; a bulk load has not.
        conn.execute(text("ANALYZE TABLE debugger_logs"))


def _workspace(engine: Engine) -> int:
    with UnitOfWork(engine) as uow:
        user = uow.users.add(user=User(name="Bench", username="bench", email="bench@x.test"))
        assert user.id is not None
        ws = uow.workspaces.add(workspace=Workspace(name="bench", creator_id=user.id))
        uow.commit()
        assert ws.id is not None
        return ws.id


def _unbatched(engine: Engine) -> int:
    with engine.begin() as conn:
        result = conn.execute(
            text("DELETE FROM debugger_logs WHERE created_at < :cutoff"),
            {"cutoff": CUTOFF.replace(tzinfo=None)},
        )
        return int(result.rowcount)


def _ours(engine: Engine) -> int:
    batch_size = MaintenanceSettings().retention_batch_size
    return purge_logs_before(engine, cutoff=CUTOFF, batch_size=batch_size).debugger_logs


def _measure(engine: Engine, name: str, purge: Any) -> Outcome:
    timer = StatementTimer(engine)
    started = time.perf_counter()
    deleted = purge(engine)
    seconds = time.perf_counter() - started
    timer.close()
    with engine.connect() as conn:
        left = int(conn.execute(text("SELECT COUNT(*) FROM debugger_logs")).scalar_one())
    return Outcome(
        name,
        deleted,
        seconds,
        len(timer.durations),
        timer.longest_ms(),
        timer.longest_ms("DELETE"),
        left,
    )


def _set_index(engine: Engine, *, present: bool) -> None:
    with engine.begin() as conn:
        if present:
            conn.execute(text(f"CREATE INDEX {INDEX} ON debugger_logs (created_at)"))
        else:
            conn.execute(text(f"DROP INDEX {INDEX} ON debugger_logs"))


COLUMNS = ["contender", "deleted", "seconds", "rows/s", "statements", "longest"]
COLUMNS += ["longest DELETE", "x base"]
CONTENDERS = (
    ("one unbatched DELETE", _unbatched, False),
    ("ours, no index", _ours, False),
    ("ours, with an index on created_at", _ours, True),
)


def run(mysql_url: str, rows: int = 1_000_000) -> bool:
    """With 10% kept, and with as many rows kept as deleted."""
    met = True
    with bench_database(mysql_url) as engine:
        workspace_id = _workspace(engine)
        for kept in (rows // 10, rows):
            outcomes = []
            for name, purge, indexed in CONTENDERS:
                if indexed:
                    _set_index(engine, present=True)
                _seed(engine, workspace_id, rows, kept)
                outcomes.append(_measure(engine, name, purge))
                if indexed:
                    _set_index(engine, present=False)
            met &= _report(outcomes, rows=rows, kept=kept)
    return met


def _row(o: Outcome, baseline: Outcome) -> list[str]:
    ratio = o.rows_per_s / baseline.rows_per_s if baseline.rows_per_s else 0.0
    return [
        o.contender,
        f"{o.deleted:,}",
        f"{o.seconds:.1f}",
        f"{o.rows_per_s:,.0f}",
        f"{o.statements:,}",
        f"{o.longest_ms:,.0f} ms",
        f"{o.longest_delete_ms:,.0f} ms",
        f"{ratio:.2f}x",
    ]


def _report(outcomes: list[Outcome], *, rows: int, kept: int) -> bool:
    """The issue's goals, for ours as shipped (no index): the rate with 10% kept, the longest
    statement with either share kept."""
    baseline, ours = outcomes[0], outcomes[1]
    print_table(
        f"log_purge — {rows:,} debugger logs past the cutoff, {kept:,} newer",
        COLUMNS,
        [_row(o, baseline) for o in outcomes],
    )
    correct = all(o.deleted == rows and o.kept == kept for o in outcomes)
    goals = [
        ("every old row deleted, every newer one kept", correct),
        (f"no statement of ours over {GOAL_LONGEST_MS:.0f} ms", ours.longest_ms <= GOAL_LONGEST_MS),
    ]
    if kept < rows:
        goals.append((f"ours ≥ {GOAL_ROWS_PER_S:,} rows/s", ours.rows_per_s >= GOAL_ROWS_PER_S))
    print_table(
        f"goals ({kept:,} kept)", ["goal", "verdict"], [[g, verdict(met)] for g, met in goals]
    )
    return all(met for _, met in goals)
