"""Fixtures that give tests the real MariaDB and RabbitMQ of this machine.

Every test session works in databases and a RabbitMQ vhost of its own, created here and dropped
at the end. Where a service is missing, integration tests skip on a laptop and fail under CI=true.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pika
import pymysql
import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from lineblocs_shared.db import make_engine
from tests.support.sentry_capture import SentryCapture

REPO_ROOT = Path(__file__).resolve().parents[1]
IN_CI = os.environ.get("CI", "").lower() == "true"
MYSQL_SERVER_URL = os.environ.get("TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306")
AMQP_SERVER_URL = os.environ.get("TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672")


def service_missing(reason: str) -> None:
    """Skip on a developer laptop; fail in CI, where every service must be there."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: integration tests must not skip)")
    pytest.skip(reason)


def _mysql_connect(database: str | None = None) -> pymysql.connections.Connection:
    url = make_url(MYSQL_SERVER_URL)
    return pymysql.connect(
        host=url.host or "127.0.0.1",
        port=url.port or 3306,
        user=url.username or "root",
        password=url.password or "",
        database=database,
        connect_timeout=3,
        autocommit=True,
    )


@pytest.fixture(scope="session")
def mysql_available() -> bool:
    try:
        _mysql_connect().close()
    except pymysql.MySQLError as exc:
        service_missing(f"MariaDB/MySQL not reachable at {MYSQL_SERVER_URL}: {exc}")
    return True


class MySQLDatabases:
    """Creates throw-away databases named lbj_t_<hex> and drops them at the end."""

    def __init__(self) -> None:
        self.created: list[str] = []

    def create(self) -> str:
        name = f"lbj_t_{uuid.uuid4().hex[:12]}"
        conn = _mysql_connect()
        try:
            with conn.cursor() as cur:
                cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        finally:
            conn.close()
        self.created.append(name)
        return str(make_url(MYSQL_SERVER_URL).set(database=name).render_as_string(False))

    def drop_all(self) -> None:
        conn = _mysql_connect()
        try:
            with conn.cursor() as cur:
                for name in self.created:
                    cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        finally:
            conn.close()


@pytest.fixture(scope="session")
def mysql_databases(mysql_available: bool) -> Iterator[MySQLDatabases]:
    dbs = MySQLDatabases()
    yield dbs
    dbs.drop_all()


@pytest.fixture
def empty_mysql_url(mysql_databases: MySQLDatabases) -> str:
    """URL of a new, empty database for this test only."""
    return mysql_databases.create()


@pytest.fixture
def empty_mysql_engine(empty_mysql_url: str) -> Iterator[Engine]:
    engine = make_engine(empty_mysql_url)
    yield engine
    engine.dispose()


def _vhost_tools() -> str | None:
    return shutil.which("rabbitmqctl")


def _own_vhost(ctl: str, prefix: str) -> Iterator[str]:
    """A RabbitMQ vhost made for the caller and deleted after it; yields its AMQP URL."""
    vhost = f"{prefix}-{uuid.uuid4().hex[:10]}"
    user = make_url(AMQP_SERVER_URL.replace("amqp://", "mysql://")).username or "guest"
    subprocess.run([ctl, "-q", "add_vhost", vhost], check=True, timeout=60)
    subprocess.run(
        [ctl, "-q", "set_permissions", "-p", vhost, user, ".*", ".*", ".*"], check=True, timeout=60
    )
    yield f"{AMQP_SERVER_URL}/{vhost}"
    subprocess.run([ctl, "-q", "delete_vhost", vhost], check=False, timeout=60)


@pytest.fixture(scope="session")
def amqp_url() -> Iterator[str]:
    """AMQP URL of a RabbitMQ vhost that only this test session uses."""
    try:
        pika.BlockingConnection(pika.URLParameters(AMQP_SERVER_URL + "/%2F")).close()
    except Exception as exc:
        service_missing(f"RabbitMQ not reachable at {AMQP_SERVER_URL}: {exc}")
    ctl = _vhost_tools()
    if ctl is None:
        # No admin tool: share the default vhost; tests use queues named after their session.
        yield AMQP_SERVER_URL + "/%2F"
        return
    yield from _own_vhost(ctl, "lbj-test")


@pytest.fixture
def fresh_amqp_url(amqp_url: str) -> Iterator[str]:
    """A vhost of this test alone: no queue exists there until someone declares one."""
    ctl = _vhost_tools()
    if ctl is None:
        service_missing("rabbitmqctl not found: cannot create a vhost without queues")
    yield from _own_vhost(ctl or "", "lbj-fresh")


@pytest.fixture
def lineblocs_engine(empty_mysql_engine: Engine) -> Engine:
    """A new database holding the fresh-install Lineblocs reference schema (37 tables)."""
    from lineblocs_shared.db.reference import apply_reference_schema

    apply_reference_schema(empty_mysql_engine)
    return empty_mysql_engine


@pytest.fixture
def legacy_lineblocs_engine(lineblocs_engine: Engine) -> Engine:
    """The reference schema as older databases have it: DOUBLE(8,2) money, monthly_charge_cents."""
    from lineblocs_shared.db.reference import apply_legacy_variant

    apply_legacy_variant(lineblocs_engine)
    return lineblocs_engine


@pytest.fixture(params=["fresh", "legacy"])
def any_lineblocs_engine(request: pytest.FixtureRequest, lineblocs_engine: Engine) -> Engine:
    """Runs a test on both schema variants of infra/mysql/reference/README.md."""
    if request.param == "legacy":
        from lineblocs_shared.db.reference import apply_legacy_variant

        apply_legacy_variant(lineblocs_engine)
    return lineblocs_engine


@pytest.fixture
def jobs_engine(lineblocs_engine: Engine) -> Engine:
    """The reference Lineblocs schema plus our own lbj_* tables at the head revision."""
    from lineblocs_shared.db import migrate

    migrate.upgrade(lineblocs_engine)
    return lineblocs_engine


@pytest.fixture
def sqlite_jobs_engine(tmp_path: Path) -> Iterator[Engine]:
    """The embedded SQLite database (modeled Lineblocs tables + our tables): no services needed."""
    from lineblocs_shared.db import migrate
    from lineblocs_shared.db.embedded import create_embedded_schema

    engine = make_engine(f"sqlite:///{tmp_path / 'jobs.sqlite3'}")
    create_embedded_schema(engine)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def jobs_mysql_url(empty_mysql_url: str) -> str:
    """URL of a new database holding only our own lbj_* tables (what every worker needs)."""
    from lineblocs_shared.db import migrate

    engine = make_engine(empty_mysql_url)
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()
    return empty_mysql_url


@pytest.fixture
def sentry() -> Iterator[SentryCapture]:
    """A local Sentry endpoint the real sentry-sdk sends to (`SENTRY_DSN=sentry.dsn`)."""
    capture = SentryCapture().start()
    yield capture
    capture.stop()
