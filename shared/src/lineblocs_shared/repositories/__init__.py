"""Repositories over the Lineblocs tables: keyword-only methods, one session each."""

from lineblocs_shared.repositories.billing import (
    CardRepository,
    DebitRepository,
    InvoiceRepository,
    ServicePlanRepository,
    SubscriptionRepository,
)
from lineblocs_shared.repositories.housekeeping import RetentionRepository
from lineblocs_shared.repositories.tenants import UserRepository, WorkspaceRepository

__all__ = [
    "CardRepository",
    "DebitRepository",
    "InvoiceRepository",
    "RetentionRepository",
    "ServicePlanRepository",
    "SubscriptionRepository",
    "UserRepository",
    "WorkspaceRepository",
]
