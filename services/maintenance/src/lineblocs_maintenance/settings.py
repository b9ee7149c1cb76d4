"""Settings of the maintenance service (read once, by its composition root).

Lineblocs' own S3 settings (bucket, region, key pair) live in its database and are read through
`SiteSettings`; this class holds what belongs to our deployment: how to reach each media
server's ARI, where recordings go when not to S3, and the relocation's limits.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

RecordingStorageName = Literal["", "s3", "local"]

# Periodic catch-up looks back 7 days: a job run must outlive that to be seen (retention.py).
MIN_RUN_RETENTION_DAYS = 8


class MaintenanceSettings(BaseSettings):
    # Empty is unset: compose passes every setting, `${ARI_URL_TEMPLATE:-}` included (its
    # default holds braces compose cannot put in a default).
    model_config = SettingsConfigDict(
        env_file=".env", extra="ignore", frozen=True, env_ignore_empty=True
    )

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
    ari_url_template: str = Field(
        "http://{host}:8088/ari",
        description="ARI base URL of a media server; {host} is the recording's storage_server_ip",
    )
    ari_hosts: Annotated[tuple[str, ...], NoDecode] = Field(
        (),
        description="comma-separated media servers ARI may be asked (empty: any storage_server_ip)",
    )
    ari_username: str = Field("", description="ARI user (basic auth), the same on every server")
    ari_password: SecretStr = Field(SecretStr(""), description="ARI password (basic auth)")
    ari_timeout_s: float = Field(30, gt=0, le=600, description="ARI connect/read timeout (s)")
    recording_storage_override: RecordingStorageName = Field(
        "",
        description=(
            "empty: S3 with Lineblocs' aws_* and s3_bucket settings (local on the embedded "
            "defaults); s3 or local force one (local is refused in staging/production)"
        ),
    )
    recording_local_dir: Path = Field(
        Path("recordings"), description="local storage: the folder recordings are copied to"
    )
    s3_endpoint_url: str = Field(
        "", description="S3 endpoint for S3-compatible stores and tests; empty: AWS"
    )
    recording_relocation_max_attempts: int = Field(
        5, ge=1, le=50, description="attempts at one recording before it is dead-lettered"
    )
    recording_relocation_page_size: int = Field(
        500, ge=1, le=10_000, description="recordings read per keyset page by the sweep"
    )
    recording_spool_memory_mb: int = Field(
        8, ge=1, le=256, description="a download is kept in memory up to this size, then on disk"
    )

    @field_validator("ari_hosts", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(host.strip() for host in value.split(",") if host.strip())
        return value

    @field_validator("ari_url_template")
    @classmethod
    def _a_template(cls, value: str) -> str:
        if "{host}" not in value or not value.startswith(("http://", "https://")):
            raise ValueError("ARI_URL_TEMPLATE must be an http(s) URL holding {host}")
        return value.rstrip("/")
