"""Invoice preview on MariaDB: time and query count for 100, 10,000 and 100,000 call debits.

`uv run python -m benchmarks.invoice_preview`: creates a throw-away database `lbj_bench_*`
(reference schema + our tables), one workspace per size with that many calls and CALL debits of
the period (plus two phone numbers), then runs `preview_invoice` — the computation billing
writes — several times per workspace. Goals: the same query count for every size, and
≤ 0.5 s at 100,000 debits (fastest run). Exit status 1 when a goal is not met.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pymysql
from sqlalchemy import Engine, event, insert
from sqlalchemy.engine import make_url

from benchmarks.support import DEFAULT_MYSQL_URL, print_table, verdict
from lineblocs_billing.invoicing.preview import preview_invoice
from lineblocs_shared.db import make_engine, migrate
from lineblocs_shared.db.reference import apply_reference_schema
from lineblocs_shared.db.uow import UnitOfWork
from lineblocs_shared.models.billing import BillingCycle, Debit, ServicePlan, Subscription
from lineblocs_shared.models.tenants import User, Workspace
from lineblocs_shared.models.usage import Call, DidNumber

SIZES = (100, 10_000, 100_000)
GOAL_SECONDS = 0.5
PERIOD_END = datetime(2026, 11, 1, tzinfo=UTC)
PERIOD_MIDDLE = datetime(2026, 10, 2, tzinfo=UTC)
NOW = datetime(2026, 11, 23, tzinfo=UTC)
CHUNK = 5_000


@dataclass
class Result:
    debits: int
    queries: int
    seconds: list[float]
    total_cents: int


def _server(mysql_url: str) -> pymysql.connections.Connection:
    url = make_url(mysql_url)
    return pymysql.connect(
        host=url.host or "127.0.0.1",
        port=url.port or 3306,
        user=url.username or "root",
        password=url.password or "",
        autocommit=True,
    )


@contextmanager
def bench_database(mysql_url: str) -> Iterator[Engine]:
    name = f"lbj_bench_{uuid.uuid4().hex[:10]}"
    server = _server(mysql_url)
    with server.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    engine = make_engine(make_url(mysql_url).set(database=name).render_as_string(False))
    try:
        apply_reference_schema(engine)
        migrate.upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        with server.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        server.close()


def seed_workspace(engine: Engine, debits: int) -> int:
    """A workspace on a 200-minute plan with `debits` calls of October 2026; its subscription id."""
    suffix = uuid.uuid4().hex[:10]
    with UnitOfWork(engine) as uow:
        user = uow.users.add(user=User(name="Bench", username=suffix, email=f"{suffix}@x.test"))
        assert user.id is not None
        ws = uow.workspaces.add(workspace=Workspace(name=suffix, creator_id=user.id))
        assert ws.id is not None
        plan = uow.plans.add(
            plan=ServicePlan(key_name="basic", minutes_per_month=200), monthly_cost_cents=2499
        ).plan
        sub = uow.subscriptions.add(
            subscription=Subscription(
                workspace_id=ws.id,
                current_plan_id=plan.id,  # type: ignore[arg-type]
                billing_cycle=BillingCycle.MONTHLY,
                next_billing_date=PERIOD_END,
                current_period_end=PERIOD_END,
                billing_anchor_day=1,
                created_at=datetime(2026, 1, 1, tzinfo=UTC),
            )
        )
        for n in range(2):
            uow.session.add(
                DidNumber(number=f"+1{suffix}{n}", workspace_id=ws.id, monthly_cost=100)
            )
        uow.commit()
        workspace_id, user_id, subscription_id = ws.id, user.id, sub.id
    first_call = workspace_id * 10_000_000
    for offset in range(0, debits, CHUNK):
        numbers = range(offset, min(offset + CHUNK, debits))
        started = [
            (PERIOD_MIDDLE + timedelta(seconds=15 * n)).replace(tzinfo=None) for n in numbers
        ]
        calls = [
            _call_row(first_call + n, at, workspace_id, user_id)
            for n, at in zip(numbers, started, strict=True)
        ]
        rows = [_debit_row(first_call + n, workspace_id, user_id) for n in numbers]
        with engine.begin() as conn:
            conn.execute(insert(Call.__table__), calls)  # type: ignore[attr-defined]
            conn.execute(insert(Debit), rows)
    assert subscription_id is not None
    return subscription_id


def _call_row(call_id: int, started: datetime, workspace_id: int, user_id: int) -> dict[str, Any]:
    return {
        "id": call_id,
        "api_id": f"bench-{call_id}",
        "from": "+15145550100",
        "to": "+14165550199",
        "status": "ENDED",
        "direction": "outbound",
        "duration": 30 + call_id % 300,
        "user_id": user_id,
        "workspace_id": workspace_id,
        "started_at": started,
        "plan_snapshot": "",
        "created_at": started,
        "updated_at": started,
    }


def _debit_row(call_id: int, workspace_id: int, user_id: int) -> dict[str, Any]:
    return {
        "user_id": user_id,
        "workspace_id": workspace_id,
        "cents": 10 + call_id % 90,
        "source": "CALL",
        "status": "CREATED",
        "module_id": call_id,
        "created_at": PERIOD_MIDDLE,
        "updated_at": PERIOD_MIDDLE,
    }


def measure(engine: Engine, subscription_id: int, debits: int, repeat: int) -> Result:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    seconds, total = [], 0
    for _ in range(repeat):
        statements.clear()
        event.listen(engine, "before_cursor_execute", count)
        started = time.perf_counter()
        draft = preview_invoice(engine, subscription_id=subscription_id, period_start=None, now=NOW)
        seconds.append(time.perf_counter() - started)
        event.remove(engine, "before_cursor_execute", count)
        total = draft.cents_including_taxes
    return Result(debits=debits, queries=len(statements), seconds=seconds, total_cents=total)


def run(mysql_url: str, *, repeat: int = 5) -> bool:
    with bench_database(mysql_url) as engine:
        subscriptions = [(size, seed_workspace(engine, size)) for size in SIZES]
        results = [measure(engine, sub, size, repeat) for size, sub in subscriptions]
    rows = [
        (
            f"{r.debits:,}",
            str(r.queries),
            f"{min(r.seconds) * 1000:.0f} ms",
            f"{statistics.median(r.seconds) * 1000:.0f} ms",
            f"{r.total_cents:,}",
        )
        for r in results
    ]
    print_table(
        "invoice_preview (MariaDB)",
        ["call debits", "queries", "fastest", "median", "invoice total (cents)"],
        rows,
    )
    same_count = len({r.queries for r in results}) == 1
    fast = min(results[-1].seconds) <= GOAL_SECONDS
    print_table(
        "goals",
        ["goal", "verdict"],
        [
            ("same query count for every size", verdict(same_count)),
            (f"≤ {GOAL_SECONDS} s at {SIZES[-1]:,} debits", verdict(fast)),
        ],
    )
    return same_count and fast


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.invoice_preview")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    mysql_url = os.environ.get("TEST_MYSQL_URL", DEFAULT_MYSQL_URL)
    return 0 if run(mysql_url, repeat=args.repeat) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
