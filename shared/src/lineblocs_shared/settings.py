"""Process settings, read once from the environment (and `.env`) and passed down.

Only composition roots (the CLI, each service's worker module) call `load_settings()`;
everything below them receives a `Settings` instance.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal, TypeVar
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from lineblocs_shared.errors import ConfigError

EMBEDDED_DATABASE_URL = "sqlite:///lineblocs-jobs.sqlite3"
EMBEDDED_QUEUE_URL = "memory://"

# Passwords that only ever appear in examples and defaults: a deployed system must not run on them.
PLACEHOLDER_SECRETS = frozenset(
    {"", "guest", "changeme", "change-me", "password", "secret", "example", "root", "xxx"}
)


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    STAGING = "staging"
    PRODUCTION = "production"

    @property
    def is_deployed(self) -> bool:
        return self in (Environment.STAGING, Environment.PRODUCTION)


class Settings(BaseSettings):
    """Every setting of lineblocs-jobs. `.env.example` lists them all with their env names."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    environment: Environment = Field(
        Environment.DEVELOPMENT, description="development | test | staging | production"
    )
    database_url: str = Field(
        EMBEDDED_DATABASE_URL,
        description="SQLAlchemy URL of the Lineblocs database (mysql+pymysql://… in production)",
    )
    queue_url: str = Field(
        EMBEDDED_QUEUE_URL,
        description="AMQP URL of RabbitMQ, or memory:// for the in-process broker",
    )
    sentry_dsn: str | None = Field(None, description="Sentry DSN; unset disables Sentry")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Root log level"
    )
    worker_processes: int = Field(1, ge=1, le=64, description="dramatiq worker processes")
    worker_threads: int = Field(4, ge=1, le=256, description="dramatiq threads per process")
    worker_prefetch: int = Field(
        0,
        ge=0,
        le=1000,
        description="unacked messages a worker process holds per queue; 0: its thread count",
    )
    db_pool_size: int = Field(5, ge=1, le=100, description="SQLAlchemy pool size per process")
    max_message_bytes: int = Field(
        256 * 1024,
        ge=4096,
        le=64 * 1024 * 1024,
        description=(
            "a delivered message larger than this is refused unread: a dead letter with its size"
        ),
    )
    periodic_skip_delay_s: int = Field(
        300, ge=1, description="periodiq drops periodic messages older than this (seconds)"
    )
    lineblocs_settings_ttl_s: float = Field(
        30,
        ge=0,
        le=3600,
        description=(
            "a worker re-reads Lineblocs' own settings (gateway, keys, mail provider, S3…) when"
            " the copy it holds is this old (seconds); 0 reads them for every message"
        ),
    )
    log_format: Literal["json", "text"] | None = Field(
        None, description="json | text; unset: json when deployed (staging/production), else text"
    )
    health_port: int = Field(
        8080, ge=0, le=65535, description="worker HTTP port of /livez and /readyz; 0 disables"
    )
    metrics_port: int = Field(
        9191, ge=0, le=65535, description="Prometheus exposition port of a worker; 0 disables"
    )

    @field_validator("sentry_dsn", "log_format", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        # docker compose passes an unset ${SENTRY_DSN:-} as "".
        return value or None

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        scheme = urlsplit(value).scheme
        if not scheme.startswith(("mysql", "mariadb", "sqlite")):
            raise ValueError(
                f"DATABASE_URL must be a mysql+pymysql:// or sqlite:// URL, not {scheme}://"
            )
        return value

    @field_validator("queue_url")
    @classmethod
    def _known_queue(cls, value: str) -> str:
        scheme = urlsplit(value).scheme
        if scheme not in ("amqp", "amqps", "memory"):
            raise ValueError(f"QUEUE_URL must be amqp://, amqps:// or memory://, not {scheme}://")
        return value

    @model_validator(mode="after")
    def _deployed_needs_real_parts(self) -> Settings:
        if not self.environment.is_deployed:
            return self
        if self.uses_embedded_database or self.uses_embedded_broker:
            raise ValueError(
                f"ENVIRONMENT={self.environment} needs MySQL and RabbitMQ, "
                "not the embedded SQLite/in-process defaults"
            )
        for name, url in (("DATABASE_URL", self.database_url), ("QUEUE_URL", self.queue_url)):
            password = urlsplit(url).password
            if password is None or password.lower() in PLACEHOLDER_SECRETS:
                raise ValueError(
                    f"{name} uses a placeholder password, refused in {self.environment}"
                )
        return self

    @property
    def uses_embedded_database(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def uses_embedded_broker(self) -> bool:
        return self.queue_url.startswith("memory")

    @property
    def json_logs(self) -> bool:
        """One JSON object per log line: asked for, or by default in a deployed environment."""
        if self.log_format is None:
            return self.environment.is_deployed
        return self.log_format == "json"


S = TypeVar("S", bound=BaseSettings)


def load(cls: type[S], **overrides: object) -> S:
    """Read a settings class once (environment, then `.env`); a bad value becomes one clear
    `ConfigError` naming the variable. Every settings class of the project is read here."""
    try:
        return cls(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']).upper() or 'settings'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigError(f"invalid configuration: {problems}") from None


def load_settings(**overrides: object) -> Settings:
    """The process settings (`load(Settings)`)."""
    return load(Settings, **overrides)
