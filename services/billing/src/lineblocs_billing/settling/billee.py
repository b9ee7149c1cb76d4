"""Who an invoice is collected from, and whether their card can be charged."""

from __future__ import annotations

from dataclasses import dataclass

from lineblocs_shared.db.uow import UnitOfWork
from lineblocs_shared.models.billing import Card
from lineblocs_shared.models.billing_runs import BillingPeriodRecord
from lineblocs_shared.reliability.failures.taxonomy import FatalError


@dataclass(frozen=True)
class Billee:
    workspace_id: int
    subscription_id: int
    creator_id: int
    customer_id: str  # users.stripe_id of the creator (Stripe or Braintree customer)


def billee_of(uow: UnitOfWork, record: BillingPeriodRecord) -> Billee:
    payer = uow.workspaces.payer(workspace_id=record.workspace_id)
    if payer is None:  # deleting a workspace deletes its invoices: we never get here
        raise FatalError(f"workspace {record.workspace_id} of period {record.id} does not exist")
    return Billee(
        workspace_id=record.workspace_id,
        subscription_id=record.subscription_id,
        creator_id=payer.creator_id,
        customer_id=payer.customer_id,
    )


def chargeable(card: Card | None, billee: Billee) -> bool:
    """A card the gateway can charge: a payment method of a known customer."""
    return bool(card and payment_method_of(card) and billee.customer_id)


def payment_method_of(card: Card) -> str:
    return (card.stripe_payment_method_id or "").strip()
