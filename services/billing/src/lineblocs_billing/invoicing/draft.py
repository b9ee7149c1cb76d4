"""An invoice as computed for one subscription and period, before anything is written.

`drafting.py` computes it; the preview prints it; `write.py` writes it.
"""

from __future__ import annotations

from dataclasses import dataclass

from lineblocs_billing.invoicing.periods import BillingPeriod
from lineblocs_billing.invoicing.rentals import NumberRental
from lineblocs_billing.invoicing.rules import (
    Collection,
    PayBy,
    TaxLine,
    collect_card_plan,
    collect_pay_as_you_go,
)
from lineblocs_shared.models.billing import BillingCycle

CYCLE_PREFIX = {BillingCycle.MONTHLY: "M", BillingCycle.ANNUAL: "A"}


@dataclass(frozen=True)
class InvoiceDraft:
    subscription_id: int
    workspace_id: int
    creator_id: int
    plan_id: int
    pay_as_you_go: bool
    period: BillingPeriod
    seats: int
    membership_costs: int
    call_costs: int
    recording_costs: int
    fax_costs: int
    number_costs: int
    taxes: tuple[TaxLine, ...]
    rentals: tuple[NumberRental, ...]  # debits to write (already counted in number_costs)
    payg_balance_before_end: int | None  # PAYG only: credits - debits before the period end
    usage_debits: int
    unattributed_debits: int  # the creator's rows without workspace, left out (R-USAGE-1)

    @property
    def cycle(self) -> BillingCycle:
        return self.period.cycle

    @property
    def cents(self) -> int:
        """The subtotal: the five costs."""
        return (
            self.membership_costs
            + self.call_costs
            + self.recording_costs
            + self.fax_costs
            + self.number_costs
        )

    @property
    def cents_taxes(self) -> int:
        return sum(tax.cents for tax in self.taxes)

    @property
    def cents_including_taxes(self) -> int:
        return self.cents + self.cents_taxes

    @property
    def membership_and_taxes(self) -> int:
        """What a PAYG workspace owes beyond the usage its credits already paid."""
        return self.membership_costs + self.cents_taxes

    @property
    def collection(self) -> Collection:
        if self.payg_balance_before_end is None:
            return collect_card_plan(self.cents_including_taxes)
        return collect_pay_as_you_go(
            total=self.cents_including_taxes,
            balance_before_end=self.payg_balance_before_end,
            membership_and_taxes=self.membership_and_taxes,
        )

    @property
    def pay_by(self) -> PayBy:
        return self.collection.pay_by

    @property
    def amount_to_charge(self) -> int:
        return self.collection.amount_to_charge

    @property
    def deduplication_key(self) -> str:
        """The site's own invoice key: <MONTHLY|ANNUAL>:<workspace>:<period start Y-m-d>."""
        return f"{self.cycle.value}:{self.workspace_id}:{self.period.key_date}"

    @property
    def invoice_no(self) -> str:
        return f"{CYCLE_PREFIX[self.cycle]}-{self.workspace_id}-{self.period.start:%Y%m%d}"

    @property
    def subscription_debit_key(self) -> str:
        return subscription_debit_key(self.workspace_id, self.period)


def subscription_debit_key(workspace_id: int, period: BillingPeriod) -> str:
    return f"SUBSCRIPTION:{workspace_id}:{period.key_date}"
