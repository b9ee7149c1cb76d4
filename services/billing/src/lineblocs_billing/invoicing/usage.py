"""A workspace's debits for one period, aggregated in SQL: one query whatever the row count.

Billing rules R-USAGE-1 to R-USAGE-6 (docs/billing-rules.md). Each debit's cents are first rounded
half up to an integer (`whole_cents`: older databases store DOUBLE(8,2)). CALL debits consume the
plan's allowance in order of `calls.started_at`, then debit id: a window function keeps the running
sum of durations, so a call's overage is `min(max(consumed - allowance, 0), duration)` where
`consumed` includes the call itself, and its charge is `round(cents * over / duration)` half up in
exact integer arithmetic. Everything runs in SQLAlchemy Core that MariaDB 10.11 and SQLite ≥ 3.25
both execute.

The per-bill statements are built once per shape (with or without the creator's rows, and per
allowance) with bind parameters: building them and their cache key anew each time cost more CPU
than running them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Executable,
    Integer,
    Subquery,
    Table,
    and_,
    bindparam,
    case,
    func,
    literal_column,
    select,
)
from sqlmodel import Session

from lineblocs_shared.db.rounding import div_half_up, whole_cents
from lineblocs_shared.db.types import UTCDateTime
from lineblocs_shared.models.tenants import Workspace
from lineblocs_shared.models.usage import Call
from lineblocs_shared.prepaid import (
    DEBITS,
    Attribution,
    as_int,
    attributed_rows,
    scope_parameters,
)

CALLS: Table = Call.__table__  # type: ignore[attr-defined]
WORKSPACES: Table = Workspace.__table__  # type: ignore[attr-defined]

Moment = datetime | ColumnElement[datetime]  # a value, or a bind parameter given at execution

# Sources compared upper-case: MySQL's collation ignores case, SQLite's does not.
CALL_SOURCE = "CALL"
NOT_USAGE = "SUBSCRIPTION"  # written by billing itself (PAYG membership), never usage
RECORDING_SOURCES = ("RECORDING", "API USAGE - RECORDING")
FAX_SOURCES = ("FAX", "API USAGE - FAX")
NUMBER_SOURCES = ("NUMBER_RENTAL", "DID_RENTAL")


@dataclass(frozen=True)
class UsageTotals:
    metered_calls: int  # CALL debits, after the allowance
    other_usage: int  # SMS, toll-free, data, TTS/STT and unknown sources: in full
    recording: int
    fax: int
    number: int
    debits: int  # usage rows counted

    @property
    def call_costs(self) -> int:
        return self.metered_calls + self.other_usage


def usage_in_period(
    *, start: Moment, end: Moment, source: ColumnElement[str]
) -> list[ColumnElement[bool]]:
    """Debits of the half-open period [start, end), except billing's own SUBSCRIPTION debits."""
    return [DEBITS.c.created_at >= start, DEBITS.c.created_at < end, source != NOT_USAGE]


def period_parameters() -> tuple[ColumnElement[datetime], ColumnElement[datetime]]:
    """The bind parameters `start` and `end` of a statement built once for every period."""
    return bindparam("start", type_=UTCDateTime), bindparam("end", type_=UTCDateTime)


class Kind(IntEnum):
    """What a debit is billed as. A small integer, not the VARCHAR source, is what the
    derived tables, the sort and the window carry: it halves the time on 100,000 rows."""

    CALL = 0
    OTHER = 1  # SMS, toll-free, data, TTS/STT and unknown sources: in full, into call_costs
    RECORDING = 2
    FAX = 3
    NUMBER = 4


def kind_of(source: ColumnElement[str]) -> ColumnElement[int]:
    return case(
        (source == CALL_SOURCE, Kind.CALL.value),
        (source.in_(RECORDING_SOURCES), Kind.RECORDING.value),
        (source.in_(FAX_SOURCES), Kind.FAX.value),
        (source.in_(NUMBER_SOURCES), Kind.NUMBER.value),
        else_=Kind.OTHER.value,
    )


def usage_totals(
    session: Session, scope: Attribution, *, start: datetime, end: datetime, allowance_seconds: int
) -> UsageTotals:
    stmt = _usage_statement(scope.includes_creator_rows, int(allowance_seconds))
    parameters = {**scope_parameters(scope), "start": start, "end": end}
    metered, other, recording, fax, number, count = session.execute(stmt, parameters).one()
    return UsageTotals(
        metered_calls=as_int(metered),
        other_usage=as_int(other),
        recording=as_int(recording),
        fax=as_int(fax),
        number=as_int(number),
        debits=as_int(count),
    )


@lru_cache(maxsize=256)  # one per allowance in use (plan minutes and cycle), twice
def _usage_statement(with_creator_rows: bool, allowance_seconds: int) -> Executable:
    r = _consumed_in_order(with_creator_rows).c
    return select(
        _sum_where(r.kind == Kind.CALL.value, _call_charge(r, allowance_seconds)),
        *(_sum_where(r.kind == kind.value, r.cents) for kind in list(Kind)[1:]),
        func.count(),
    )


def _consumed_in_order(with_creator_rows: bool) -> Subquery:
    """The period's usage rows with their kind and cents, and for calls their duration and the
    running sum of durations in call order (`consumed`, this call included)."""
    source = func.upper(DEBITS.c.source)
    start, end = period_parameters()
    rows = attributed_rows(
        DEBITS,
        with_creator_rows=with_creator_rows,
        columns=[
            DEBITS.c.id,
            kind_of(source).label("kind"),
            whole_cents(DEBITS.c.cents).label("cents"),
            DEBITS.c.module_id,
        ],
        where=usage_in_period(start=start, end=end, source=source),
    )
    duration = case((CALLS.c.duration < 0, 0), else_=CALLS.c.duration)
    calls = rows.outerjoin(
        CALLS, and_(rows.c.kind == Kind.CALL.value, CALLS.c.id == rows.c.module_id)
    )
    consumed = func.sum(duration).over(
        partition_by=rows.c.kind, order_by=(CALLS.c.started_at, rows.c.id), rows=(None, 0)
    )
    return (
        select(
            rows.c.kind,
            rows.c.cents,
            CALLS.c.id.label("call_id"),
            duration.label("duration"),
            consumed.label("consumed"),
        )
        .select_from(calls)
        .subquery()
    )


def _call_charge(r: Any, allowance_seconds: int) -> ColumnElement[int]:
    # An integer we computed, rendered inline: no bind to re-type inside DIV on MySQL.
    allowance = literal_column(str(int(allowance_seconds)), Integer)
    over = case(
        (r.consumed <= allowance, 0),
        (r.consumed - allowance >= r.duration, r.duration),
        else_=r.consumed - allowance,
    )
    return case(
        (r.call_id.is_(None), r.cents),  # the call row is missing: charged in full
        # A zero-length call: charged in full once nothing remains (consumed includes it: +0).
        (r.duration == 0, case((r.consumed >= allowance, r.cents), else_=0)),
        else_=div_half_up(r.cents * over, r.duration),
    )


def _sum_where(condition: ColumnElement[bool], amount: ColumnElement[int]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, amount), else_=0)), 0)
