"""Why a user who never set a password must stay.

Deleting a user cascades to the workspaces he created and all their data (invoices, credits,
debits, calls, recordings, numbers…), and sets his own money rows' `user_id` to NULL. So a user
is kept when he, or a workspace he created, has any money or usage record — or any row whose
foreign key to him RESTRICTs the delete (calls, recordings, extensions, flows, router flows),
which would make the delete fail. The reasons are named after what was found.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import Engine, TextClause, bindparam, inspect, text
from sqlalchemy.orm import Session

# (reason, table): rows of the user's created workspaces, or rows of his own.
MONEY_AND_USAGE = (
    ("invoice", "users_invoices"),
    ("payment", "users_invoices_payments"),
    ("credit", "users_credits"),
    ("debit", "users_debits"),
    ("call", "calls"),
    ("recording", "recordings"),
    ("fax", "faxes"),
    ("number", "did_numbers"),
)
# Our own ledger: a payment attempt means money may have moved at the gateway.
OUR_MONEY = (("payment attempt", "lbj_payment_attempts"),)
# (reason, table, column): his rows elsewhere whose foreign key RESTRICTs the delete.
RESTRICTING = (
    ("extension", "extensions", "user_id"),
    ("flow", "flows", "user_id"),
    ("router flow", "router_flows", "admin_id"),
)


def _in_created_workspaces(table: str) -> str:
    return (
        f"SELECT DISTINCT w.creator_id FROM workspaces w JOIN {table} t ON t.workspace_id = w.id"
        " WHERE w.creator_id IN :ids"
    )


def _own(table: str, column: str = "user_id") -> str:
    return f"SELECT DISTINCT {column} FROM {table} WHERE {column} IN :ids"


def _checks() -> list[tuple[str, str, str]]:
    """(reason, table read, query)."""
    checks = []
    for reason, table in MONEY_AND_USAGE:
        checks.append((reason, table, _in_created_workspaces(table)))
        checks.append((reason, table, _own(table)))
    checks += [(reason, table, _in_created_workspaces(table)) for reason, table in OUR_MONEY]
    checks += [(reason, table, _own(table, column)) for reason, table, column in RESTRICTING]
    return checks


CHECKS: list[tuple[str, str, TextClause]] = [
    (reason, table, text(sql).bindparams(bindparam("ids", expanding=True)))
    for reason, table, sql in _checks()
]


Check = tuple[str, str, TextClause]  # (reason, table read, query)


def applicable_checks(engine: Engine) -> list[Check]:
    """The checks of the tables this database has, read once per run. The embedded (SQLite)
    database models only the tables the jobs use: a table it lacks holds no rows to protect."""
    present = set(inspect(engine).get_table_names())
    return [check for check in CHECKS if check[1] in present]


def blockers_of(
    session: Session, user_ids: Sequence[int], checks: Sequence[Check]
) -> dict[int, list[str]]:
    """For each user in `user_ids`, the reasons he must stay (none: he may go)."""
    found: dict[int, list[str]] = defaultdict(list)
    if not user_ids:
        return found
    for reason, _table, query in checks:
        for (user_id,) in session.execute(query, {"ids": list(user_ids)}):
            if reason not in found[user_id]:
                found[user_id].append(reason)
    return found
