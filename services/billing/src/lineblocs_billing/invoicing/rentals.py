"""Number rentals: one NUMBER_RENTAL debit per active DID and period, written once (R-USAGE-6)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    Integer,
    bindparam,
    select,
)
from sqlmodel import Session, col

from lineblocs_billing.invoicing.periods import BillingPeriod
from lineblocs_shared.models.billing import Debit
from lineblocs_shared.models.usage import DidNumber


@dataclass(frozen=True)
class NumberRental:
    """A NUMBER_RENTAL debit billing writes once per active DID and period (R-USAGE-6)."""

    did_id: int
    cents: int
    deduplication_key: str


def rental_key(did_id: int, period: BillingPeriod) -> str:
    return f"NUMBER_RENTAL:{did_id}:{period.key_date}"


ACTIVE_NUMBERS = (
    select(col(DidNumber.id), col(DidNumber.monthly_cost))
    .where(
        col(DidNumber.workspace_id) == bindparam("workspace_id", type_=Integer),
        col(DidNumber.active).is_(True),
    )
    .order_by(col(DidNumber.id))
)
WRITTEN_KEYS = select(col(Debit.deduplication_key)).where(
    col(Debit.deduplication_key).in_(bindparam("keys", expanding=True))
)


def rentals_to_write(
    session: Session, *, workspace_id: int, period: BillingPeriod, months: int
) -> list[NumberRental]:
    """One rental per active DID of the workspace whose debit for this period does not exist."""
    dids = session.execute(ACTIVE_NUMBERS, {"workspace_id": workspace_id}).all()
    if not dids:
        return []
    keys = {rental_key(int(did.id), period): did for did in dids}
    written = set(session.execute(WRITTEN_KEYS, {"keys": list(keys)}).scalars())
    return [
        NumberRental(
            did_id=int(did.id), cents=int(did.monthly_cost) * months, deduplication_key=key
        )
        for key, did in keys.items()
        if key not in written
    ]
