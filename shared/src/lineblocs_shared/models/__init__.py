"""SQLModel models: Lineblocs' tables (`LineblocsTable`) and our own (`JobsTable`).

Importing this package registers every model, so both metadata objects are complete.
"""

from lineblocs_shared.models import (
    billing,
    billing_runs,
    jobs,
    logs,
    notifications,
    recordings,
    settings_store,
    tenants,
    usage,
)
from lineblocs_shared.models.base import JobsTable, LineblocsTable

__all__ = [
    "JobsTable",
    "LineblocsTable",
    "billing",
    "billing_runs",
    "jobs",
    "logs",
    "notifications",
    "recordings",
    "settings_store",
    "tenants",
    "usage",
]
