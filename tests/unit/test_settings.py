"""Settings: embedded defaults, env overrides, and what a deployed system refuses."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lineblocs_billing.settings import BillingSettings
from lineblocs_maintenance.settings import MaintenanceSettings
from lineblocs_notifications.settings import NotificationSettings
from lineblocs_shared.errors import ConfigError
from lineblocs_shared.settings import Settings, load_settings

REPO = Path(__file__).resolve().parents[2]
MYSQL = "mysql+pymysql://jobs:s3cr3t-pw@db:3306/lineblocs"
AMQP = "amqp://jobs:s3cr3t-pw@mq:5672/lineblocs"

# Every environment variable the shared package and the services read.
ALL_SETTINGS = sorted(
    {
        name.upper()
        for model in (Settings, BillingSettings, MaintenanceSettings, NotificationSettings)
        for name in model.model_fields
    }
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ALL_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no developer .env leaks in


def test_defaults_are_the_embedded_mode() -> None:
    settings = load_settings()
    assert settings.uses_embedded_database
    assert settings.uses_embedded_broker
    assert settings.environment == "development"


def test_environment_variables_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", MYSQL)
    monkeypatch.setenv("QUEUE_URL", AMQP)
    monkeypatch.setenv("LOG_LEVEL", "debug")
    settings = load_settings()
    assert settings.database_url == MYSQL
    assert settings.queue_url == AMQP
    assert settings.log_level == "DEBUG"


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_deployed_refuses_embedded_defaults(environment: str) -> None:
    with pytest.raises(ConfigError, match="needs MySQL and RabbitMQ"):
        load_settings(environment=environment)


@pytest.mark.parametrize("password", ["guest", "changeme", "password", "secret", "root"])
def test_production_refuses_placeholder_passwords(password: str) -> None:
    with pytest.raises(ConfigError, match="QUEUE_URL uses a placeholder password"):
        load_settings(
            environment="production",
            database_url=MYSQL,
            queue_url=f"amqp://jobs:{password}@mq:5672/lineblocs",
        )


def test_production_refuses_a_database_without_password() -> None:
    with pytest.raises(ConfigError, match="DATABASE_URL uses a placeholder password"):
        load_settings(
            environment="production", database_url="mysql+pymysql://root@db/lb", queue_url=AMQP
        )


def test_production_accepts_real_credentials() -> None:
    settings = load_settings(environment="production", database_url=MYSQL, queue_url=AMQP)
    assert settings.environment.is_deployed


def test_development_accepts_the_local_guest_broker() -> None:
    settings = load_settings(queue_url="amqp://guest:guest@127.0.0.1:5672/")
    assert not settings.uses_embedded_broker


def test_a_bad_value_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://x@y/z")
    monkeypatch.setenv("LOG_LEVEL", "LOUD")
    with pytest.raises(ConfigError) as raised:
        load_settings()
    message = str(raised.value)
    assert "DATABASE_URL" in message
    assert "LOG_LEVEL" in message
    assert "\n" not in message


def test_empty_sentry_dsn_means_disabled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SENTRY_DSN", "")
    assert load_settings().sentry_dsn is None


def test_settings_are_frozen() -> None:
    settings = load_settings()
    with pytest.raises(ValueError, match="frozen"):
        settings.log_level = "DEBUG"  # type: ignore[misc]


def test_env_example_lists_every_setting() -> None:
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (REPO / ".env.example").read_text(), re.M))
    expected = set(ALL_SETTINGS)
    assert expected <= listed, f"missing from .env.example: {sorted(expected - listed)}"
