"""Which transport a mail goes through: the site's `mail_provider`, the override, and what a
deployed process refuses (the site's settings read from a real SQLite store)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from lineblocs_notifications.delivery.factory import transport_name
from lineblocs_notifications.settings import NotificationSettings
from lineblocs_shared.errors import ConfigError
from lineblocs_shared.models.settings_store import CustomizationsKVStore
from lineblocs_shared.settings import Settings
from lineblocs_shared.site_settings.reader import SiteSettings
from tests.support.settings_store import settings_store

MYSQL = "mysql+pymysql://jobs:pw@db/lineblocs"
AMQP = "amqp://jobs:pw@rabbitmq:5672/%2F"


@pytest.fixture
def engine() -> Iterator[Engine]:
    with settings_store() as engine:
        yield engine


def site_with(engine: Engine, provider: str | None) -> SiteSettings:
    with Session(engine) as session:
        if provider is not None:
            session.add(CustomizationsKVStore.of("mail_provider", provider))
        session.commit()
    return SiteSettings(bind=engine).preload()


def deployed(environment: str = "production") -> Settings:
    return Settings(environment=environment, database_url=MYSQL, queue_url=AMQP)  # type: ignore[arg-type]


def options(override: str = "") -> NotificationSettings:
    return NotificationSettings(mail_transport_override=override)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("provider", "expected"), [("smtp-gateway", "smtp"), ("smtp", "smtp"), ("mailgun", "mailgun")]
)
def test_a_deployed_worker_sends_with_the_sites_provider(
    engine: Engine, provider: str, expected: str
) -> None:
    assert transport_name(site_with(engine, provider), options(), deployed()) == expected


def test_the_sites_default_provider_is_its_smtp_gateway(engine: Engine) -> None:
    assert transport_name(site_with(engine, None), options(), deployed()) == "smtp"


def test_a_provider_we_do_not_send_with_is_a_config_error_naming_it(engine: Engine) -> None:
    with pytest.raises(ConfigError, match="'sendgrid'"):
        transport_name(site_with(engine, "sendgrid"), options(), deployed())


def test_the_override_wins_over_the_site(engine: Engine) -> None:
    assert transport_name(site_with(engine, "mailgun"), options("smtp"), deployed()) == "smtp"


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_the_file_transport_is_refused_when_deployed(engine: Engine, environment: str) -> None:
    with pytest.raises(ConfigError, match=f"refused in {environment}"):
        transport_name(site_with(engine, "mailgun"), options("file"), deployed(environment))


def test_the_embedded_defaults_write_files_whatever_the_site_says(engine: Engine) -> None:
    embedded = Settings(database_url="sqlite:///jobs.sqlite3", queue_url="memory://")
    assert transport_name(site_with(engine, "mailgun"), options(), embedded) == "file"
