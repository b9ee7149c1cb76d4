"""Settling one billing period exactly once (docs/billing.md, "Exactly-once charging").

Read top to bottom: hold the period (one settler at a time), decide what is due and commit the
attempt before any gateway call, drive the attempt at the gateway outside any transaction, then
record paid or declined in a new transaction. A kill at any point leaves an attempt
`pending`/`created`; the next delivery resumes it, so a period is charged successfully at most
once whatever is redelivered.
"""

from __future__ import annotations

from lineblocs_billing.bootstrap import Billing
from lineblocs_billing.settling.charge import charge
from lineblocs_billing.settling.decide import decide
from lineblocs_billing.settling.outcome import SettlingOutcome
from lineblocs_billing.settling.recording import record_payment
from lineblocs_shared.reliability.failures.taxonomy import ExpectedContention


class PeriodBusy(ExpectedContention):
    """Another delivery is settling this period right now: try again later."""


def settle_period(deps: Billing, *, period_id: int) -> SettlingOutcome:
    with deps.period_locks.hold(period_id) as mine:
        if not mine:
            raise PeriodBusy(f"billing period {period_id} is being settled by another delivery")
        step = decide(deps, period_id)  # 1. committed before any gateway call
        if isinstance(step, SettlingOutcome):
            return step  # nothing to charge: paid from credits, no card, not due, closed…
        payment = charge(deps, step)  # 2. the gateway, outside any transaction
        return record_payment(deps, step, payment)  # 3. paid, declined, or still processing
