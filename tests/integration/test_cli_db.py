"""`lineblocs-jobs db …` against the real MariaDB: set-up, refusal, upgrade, check."""

from __future__ import annotations

import os
import subprocess

import pytest
from sqlalchemy import Engine, inspect

from lineblocs_shared.db import make_engine, migrate
from lineblocs_shared.db.reference import apply_legacy_variant
from tests.support.cli import CLI

pytestmark = pytest.mark.integration


def run_cli(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("QUEUE_URL",)}
    env["DATABASE_URL"] = database_url
    return subprocess.run(
        [CLI, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_setup_creates_the_reference_schema_and_our_tables(empty_mysql_url: str) -> None:
    result = run_cli("db", "setup", database_url=empty_mysql_url)
    assert result.returncode == 0, result.stderr
    assert "created 37 Lineblocs tables" in result.stdout
    engine = make_engine(empty_mysql_url)
    tables = set(inspect(engine).get_table_names())
    assert {
        "users",
        "subscriptions",
        "users_invoices",
        "lbj_job_runs",
        "lbj_alembic_version",
    } <= tables
    assert migrate.current_revision(engine) == migrate.head_revision()
    engine.dispose()


def test_setup_refuses_a_database_that_has_lineblocs_tables(lineblocs_engine: Engine) -> None:
    url = lineblocs_engine.url.render_as_string(hide_password=False)
    before = sorted(inspect(lineblocs_engine).get_table_names())
    result = run_cli("db", "setup", database_url=url)
    assert result.returncode == 1
    assert "already has Lineblocs tables" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert sorted(inspect(lineblocs_engine).get_table_names()) == before


def test_upgrade_is_idempotent_on_an_existing_lineblocs_database(lineblocs_engine: Engine) -> None:
    url = lineblocs_engine.url.render_as_string(hide_password=False)
    for _ in range(2):
        result = run_cli("db", "upgrade", database_url=url)
        assert result.returncode == 0, result.stderr
        assert f"revision {migrate.head_revision()}" in result.stdout


@pytest.mark.parametrize("variant", ["fresh", "legacy"])
def test_check_reports_the_variant_and_no_missing_column(
    lineblocs_engine: Engine, variant: str
) -> None:
    if variant == "legacy":
        apply_legacy_variant(lineblocs_engine)
    url = lineblocs_engine.url.render_as_string(hide_password=False)
    run_cli("db", "upgrade", database_url=url)
    result = run_cli("db", "check", database_url=url)
    assert result.returncode == 0, result.stdout + result.stderr
    expected = "monthly_charge_cents" if variant == "legacy" else "monthly_cost_cents"
    assert f"plan price column: {expected}" in result.stdout
    assert "every mapped column is present" in result.stdout


def test_check_names_a_missing_mapped_column(lineblocs_engine: Engine) -> None:
    with lineblocs_engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE users_cards DROP COLUMN backup")
    url = lineblocs_engine.url.render_as_string(hide_password=False)
    result = run_cli("db", "check", database_url=url)
    assert result.returncode == 1
    assert "missing in users_cards: backup" in result.stdout


def test_unreachable_database_is_one_clear_line() -> None:
    result = run_cli("db", "upgrade", database_url="mysql+pymysql://root@127.0.0.1:1/nowhere")
    assert result.returncode == 1
    assert result.stderr.startswith("lineblocs-jobs: database unreachable at")
    assert "Traceback" not in result.stderr
