"""Settings of the maintenance service (read once, by its composition root)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class MaintenanceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    log_retention_days: int = Field(
        7, ge=1, le=3650, description="debugger_logs / error_user_trace kept this many days"
    )
    retention_batch_size: int = Field(
        5000, ge=1, le=100_000, description="rows deleted per transaction by retention jobs"
    )
