"""Settings of the maintenance service (read once, by its composition root)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# Periodic catch-up looks back 7 days: a job run must outlive that to be seen (retention.py).
MIN_RUN_RETENTION_DAYS = 8


class MaintenanceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    log_retention_days: int = Field(
        7, ge=1, le=3650, description="debugger_logs / error_user_trace kept this many days"
    )
    retention_batch_size: int = Field(
        10_000, ge=1, le=100_000, description="rows deleted per transaction by retention jobs"
    )
    unset_password_days: int = Field(
        7, ge=1, le=3650, description="users who never set a password are deleted after this"
    )
    cleanup_batch_size: int = Field(
        50, ge=1, le=1000, description="users examined and deleted per transaction"
    )
    outbox_retention_days: int = Field(
        30, ge=1, le=3650, description="published lbj_outbox rows kept this many days"
    )
    processed_events_retention_days: int = Field(
        90,
        ge=MIN_RUN_RETENTION_DAYS,
        le=3650,
        description="lbj_processed_events kept this long: longer than any redelivery",
    )
    job_runs_retention_days: int = Field(
        90,
        ge=MIN_RUN_RETENTION_DAYS,
        le=3650,
        description="finished lbj_job_runs (and their events) kept this many days",
    )
    dead_letters_retention_days: int = Field(
        90, ge=1, le=3650, description="replayed (resolved) lbj_dead_letters kept this long"
    )
