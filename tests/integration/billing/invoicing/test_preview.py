"""`lineblocs-jobs billing preview`: one JSON object, the rules' numbers, nothing written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, inspect, select, table
from typer.testing import CliRunner

from lineblocs_billing.cli import app
from lineblocs_billing.invoicing.preview import PREVIEW_KEYS
from lineblocs_shared.db.uow import UnitOfWork
from lineblocs_shared.models.billing import BillingCycle
from tests.integration.billing.invoicing.scenario import (
    Tenant,
    add_credit,
    add_debit,
    add_did,
    bill,
    make_tenant,
)
from tests.support.cli import run_cli

pytestmark = pytest.mark.integration

CLI = str(Path(sys.executable).with_name("lineblocs-jobs"))


def url_of(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def preview(engine: Engine, *args: str) -> dict[str, object]:
    result = CliRunner().invoke(app, ["preview", *args], env={"DATABASE_URL": url_of(engine)})
    assert result.exit_code == 0, result.output
    document: dict[str, object] = json.loads(result.stdout)
    return document


def row_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            name: conn.execute(select(func.count()).select_from(table(name))).scalar_one()
            for name in inspect(engine).get_table_names()
        }


def usage_tenant(engine: Engine, **overrides: object) -> Tenant:
    with UnitOfWork(engine) as uow:
        tenant = make_tenant(uow, minutes_per_month=0, **overrides)  # type: ignore[arg-type]
        add_debit(uow, tenant, cents=120, source="SMS")
        add_did(uow, tenant, monthly_cost=300)
        uow.commit()
    return tenant


def test_the_preview_prints_exactly_the_documented_keys(sql_engine: Engine) -> None:
    tenant = usage_tenant(sql_engine)
    document = preview(
        sql_engine, "--subscription", str(tenant.subscription_id), "--now", "2026-11-23T12:00:00Z"
    )
    assert tuple(document) == PREVIEW_KEYS
    assert document == {
        "workspace_id": tenant.workspace_id,
        "subscription_id": tenant.subscription_id,
        "cycle": "MONTHLY",
        "period_start": "2026-10-01",
        "period_end": "2026-11-01",
        "seats": 1,
        "membership_costs": 2499,
        "call_costs": 120,
        "recording_costs": 0,
        "fax_costs": 0,
        "number_costs": 300,  # the rental billing would write, counted, not written
        "cents": 2919,
        "cents_taxes": 0,
        "cents_including_taxes": 2919,
        "settle": "card",
        "amount_to_charge": 2919,
    }


def test_the_preview_writes_nothing(jobs_engine: Engine) -> None:
    tenant = usage_tenant(jobs_engine, monthly_cost_cents=700, plan={"pay_as_you_go": True})
    with UnitOfWork(jobs_engine) as uow:
        add_credit(uow, tenant, cents=5000)
        uow.commit()
    before = row_counts(jobs_engine)
    document = preview(jobs_engine, "--subscription", str(tenant.subscription_id))
    assert row_counts(jobs_engine) == before
    assert (document["settle"], document["amount_to_charge"]) == ("credits", 0)


def test_a_chosen_period_start_previews_that_period(jobs_engine: Engine) -> None:
    with UnitOfWork(jobs_engine) as uow:
        tenant = make_tenant(
            uow,
            cycle=BillingCycle.ANNUAL,
            subscription={"created_at": datetime(2024, 1, 1, tzinfo=UTC)},
            plan={"annual_cost_cents": 24990},
        )
        uow.commit()
    document = preview(
        jobs_engine, "--subscription", str(tenant.subscription_id), "--period-start", "2024-11-01"
    )
    assert (document["period_start"], document["period_end"]) == ("2024-11-01", "2025-11-01")
    assert (document["cycle"], document["membership_costs"]) == ("ANNUAL", 24990)


def test_without_a_billing_date_the_period_ends_at_the_start_of_the_month(
    jobs_engine: Engine,
) -> None:
    with UnitOfWork(jobs_engine) as uow:
        tenant = make_tenant(uow, subscription={"next_billing_date": None})
        uow.commit()
    document = preview(
        jobs_engine, "--subscription", str(tenant.subscription_id), "--now", "2027-03-10T08:00:00"
    )
    assert (document["period_start"], document["period_end"]) == ("2027-02-01", "2027-03-01")


def test_a_billed_period_previews_the_invoice_it_got(jobs_engine: Engine) -> None:
    tenant = usage_tenant(jobs_engine)
    before = preview(
        jobs_engine, "--subscription", str(tenant.subscription_id), "--period-start", "2026-10-01"
    )
    bill(jobs_engine, tenant)
    after = preview(
        jobs_engine, "--subscription", str(tenant.subscription_id), "--period-start", "2026-10-01"
    )
    assert after == before


def test_the_installed_command_prints_one_json_line(jobs_engine: Engine) -> None:
    tenant = usage_tenant(jobs_engine)
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "QUEUE_URL")}
    result = subprocess.run(
        [CLI, "billing", "preview", "--subscription", str(tenant.subscription_id)],
        env={**env, "DATABASE_URL": url_of(jobs_engine)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    [line] = result.stdout.splitlines()
    assert json.loads(line)["cents_including_taxes"] == 2919


def test_an_unknown_subscription_is_one_line_on_stderr(jobs_engine: Engine) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "QUEUE_URL")}
    result = subprocess.run(
        [CLI, "billing", "preview", "--subscription", "987654"],
        env={**env, "DATABASE_URL": url_of(jobs_engine)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.strip() == "lineblocs-jobs: subscription 987654 does not exist"


def test_a_period_start_that_is_no_boundary_of_the_subscription_is_refused(
    jobs_engine: Engine,
) -> None:
    with UnitOfWork(jobs_engine) as uow:
        tenant = make_tenant(uow)  # monthly, periods start on the 1st
        uow.commit()
    subscription = str(tenant.subscription_id)

    refused = run_cli(
        jobs_engine,
        "billing",
        "preview",
        "--subscription",
        subscription,
        "--period-start",
        "2026-09-15",
    )

    assert (refused.returncode, refused.stdout) == (1, "")
    assert refused.stderr.strip() == (
        f"lineblocs-jobs: --period-start 2026-09-15 is not a period start of subscription "
        f"{subscription}: its monthly periods start on 2026-09-01 and 2026-10-01 around that day"
    )
    earlier = preview(jobs_engine, "--subscription", subscription, "--period-start", "2025-02-01")
    assert (earlier["period_start"], earlier["period_end"]) == ("2025-02-01", "2025-03-01")
