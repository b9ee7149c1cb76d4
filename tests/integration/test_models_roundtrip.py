"""The models against Lineblocs' real schema, in MySQL strict mode, on both schema variants.

Every test gets a new database holding the 37-table reference schema, either as a fresh install
has it (INT money, `service_plans.monthly_cost_cents`) or as pre-2026 databases have it
(DOUBLE(8,2) money, `monthly_charge_cents`): `any_lineblocs_engine` runs each test on both.

Round trips write only what a caller must decide (plus the values under test), commit, read back
in a new UnitOfWork and compare every mapped column: money is `int`, datetimes are aware UTC and
equal to the second, booleans are `bool`. Datetimes under test are written without microseconds
(TIMESTAMP and DATETIME keep none); model defaults such as `created_at = now()` carry microseconds
and must read back within the same second.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Literal, TypeVar

import pytest
from sqlalchemy import Boolean, Column, Engine, Float, Integer, String, bindparam, text
from sqlalchemy import Enum as SAEnum
from sqlalchemy import inspect as sa_inspect

from lineblocs_shared.db.probe import probe_schema
from lineblocs_shared.db.types import Cents, UTCDateTime, round_half_up
from lineblocs_shared.db.uow import UnitOfWork
from lineblocs_shared.models.base import LineblocsTable
from lineblocs_shared.models.billing import (
    BillingCountry,
    BillingCycle,
    BillingRegion,
    BillingTax,
    Card,
    Credit,
    Debit,
    Invoice,
    InvoiceLineItem,
    InvoicePayment,
    ServicePlan,
    Subscription,
    WorkspaceSuspension,
)
from lineblocs_shared.models.logs import DebuggerLog, ErrorUserTrace
from lineblocs_shared.models.settings_store import ApiCredentialsKVStore, CustomizationsKVStore
from lineblocs_shared.models.tenants import User, Workspace, WorkspaceUser
from lineblocs_shared.models.usage import (
    Call,
    DidNumber,
    Fax,
    Recording,
    UsageTrigger,
    UsageTriggerResult,
)
from tests.factories import (
    make_billing_chain,
    make_call,
    make_card,
    make_plan,
    make_user,
    make_workspace,
    unique_suffix,
)

pytestmark = pytest.mark.integration

# Whole seconds: what MySQL stores is exactly what was written.
T0 = datetime(2026, 3, 14, 15, 9, 26, tzinfo=UTC)
T1 = datetime(2026, 4, 14, 0, 0, 0, tzinfo=UTC)
EASTERN_STANDARD = timezone(timedelta(hours=-5))

# Reference README, caveat 1: INT on fresh installs, DOUBLE(8,2) before 2026-04-01.
MONEY_COLUMNS: dict[str, tuple[str, ...]] = {
    "users_invoices": (
        "cents",
        "call_costs",
        "recording_costs",
        "fax_costs",
        "membership_costs",
        "number_costs",
        "cents_collected",
        "cents_including_taxes",
        "cents_taxes",
    ),
    "users_debits": ("cents",),
    "users_credits": ("cents",),
    "users_invoices_line_items": ("cents",),
}
# Every Lineblocs model (settings_store is imported above, so the set does not depend on which
# test modules pytest happened to import first) ...
ALL_MODEL_TABLES = frozenset(LineblocsTable.metadata.tables)
# ... except the frozen legacy settings tables: read-only by design (see the settings_store
# docstring), their models map only what the settings reader needs and can never insert a row.
READ_ONLY_TABLES = frozenset({"customizations", "api_credentials"})
MODEL_TABLES = ALL_MODEL_TABLES - READ_ONLY_TABLES

Variant = Literal["fresh", "legacy"]
M = TypeVar("M", bound=LineblocsTable)


# --- helpers -----------------------------------------------------------------------------------


def raw_row(engine: Engine, sql: str, **params: Any) -> Any:
    """One row of a hand-written query, bypassing the models."""
    with engine.connect() as conn:
        return conn.execute(text(sql), params).one()


def schema_variant(engine: Engine) -> Variant:
    """Read from information_schema, independently of the code under test."""
    (data_type,) = raw_row(
        engine,
        "SELECT DATA_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()"
        " AND TABLE_NAME = 'users_invoices' AND COLUMN_NAME = 'cents'",
    )
    assert data_type in ("int", "double"), data_type
    return "fresh" if data_type == "int" else "legacy"


def plan_price_column(engine: Engine) -> str:
    return {"fresh": "monthly_cost_cents", "legacy": "monthly_charge_cents"}[schema_variant(engine)]


def reread(engine: Engine, written: M) -> M:
    """The row of `written`, loaded in a new UnitOfWork."""
    with UnitOfWork(engine) as uow:
        read = uow.session.get(type(written), written.id)  # type: ignore[attr-defined]
    assert read is not None, f"{type(written).__name__} {written.id} was not committed"  # type: ignore[attr-defined]
    return read


def assert_value_type(column: Column[Any], value: Any) -> None:
    where = f"{column.table.name}.{column.name}"
    if value is None:
        assert column.nullable, f"{where} is NOT NULL but read as None"
        return
    if isinstance(column.type, Cents):
        assert type(value) is int, f"{where}: money must read as int, got {value!r}"
    elif isinstance(column.type, UTCDateTime):
        assert value.tzinfo is UTC, f"{where}: expected aware UTC, got {value!r}"
    elif isinstance(column.type, Boolean):
        assert type(value) is bool, f"{where}: expected bool, got {value!r}"
    elif isinstance(column.type, SAEnum):
        enum_class = column.type.enum_class
        assert enum_class is not None, where
        assert isinstance(value, enum_class), f"{where}: got {value!r}"
    elif isinstance(column.type, Integer):
        assert type(value) is int, f"{where}: expected int, got {value!r}"
    elif isinstance(column.type, Float):
        assert type(value) is float, f"{where}: expected float, got {value!r}"
    elif isinstance(column.type, String):
        assert type(value) is str, f"{where}: expected str, got {value!r}"


def assert_columns_equal(written: LineblocsTable, read: LineblocsTable) -> None:
    """Every mapped column of `read` has the right Python type and equals `written`'s value."""
    for attr in sa_inspect(type(written)).column_attrs:
        column = attr.columns[0]
        expected, actual = getattr(written, attr.key), getattr(read, attr.key)
        assert_value_type(column, actual)
        where = f"{column.table.name}.{column.name}"
        if isinstance(expected, datetime) and expected.microsecond:
            # A model default (now()): stored without its microseconds, so within the second.
            assert actual is not None, where
            assert actual.microsecond == 0, where
            assert abs(actual - expected) < timedelta(seconds=1), where
        else:
            assert actual == expected, f"{where}: wrote {expected!r}, read {actual!r}"


def assert_roundtrip(engine: Engine, *written: LineblocsTable) -> None:
    for row in written:
        assert_columns_equal(row, reread(engine, row))


def add(uow: UnitOfWork, row: M) -> M:
    """For the tables without a repository: add and flush (so the id is set)."""
    uow.session.add(row)
    uow.session.flush()
    return row


ROUNDTRIP_TABLES: set[str] = set()
F = TypeVar("F", bound=Callable[..., Any])


def roundtrip_of(*tables: str) -> Callable[[F], F]:
    """Marks which model tables a round-trip test covers (see the completeness test below)."""
    unknown = set(tables) - MODEL_TABLES
    assert not unknown, f"not model tables: {unknown}"

    def register(test: F) -> F:
        ROUNDTRIP_TABLES.update(tables)
        return test

    return register


# --- round trips, one test per table or per group of tables that need each other ----------------


def test_every_model_table_has_a_roundtrip_test() -> None:
    assert READ_ONLY_TABLES <= ALL_MODEL_TABLES
    assert sorted(MODEL_TABLES - ROUNDTRIP_TABLES) == []


@roundtrip_of("users")
def test_users_roundtrip(any_lineblocs_engine: Engine) -> None:
    with UnitOfWork(any_lineblocs_engine) as uow:
        user = uow.users.add(
            user=User(
                name="Grace Hopper",
                username="grace",
                email="grace@example.com",
                free_trial_started=T0,
                last_login=T1,
                needs_password_set=True,
            )
        )
        uow.commit()

    with UnitOfWork(any_lineblocs_engine) as uow:
        read = uow.users.get(user_id=user.id)  # type: ignore[arg-type]
    assert read is not None
    assert_columns_equal(user, read)
    assert read.last_login == T1
    assert read.free_trial_started == T0
    assert read.needs_password_set is True
    assert read.created_at is not None
    assert read.created_at.microsecond == 0


@roundtrip_of("workspaces", "workspaces_users")
def test_workspaces_and_members_roundtrip(any_lineblocs_engine: Engine) -> None:
    with UnitOfWork(any_lineblocs_engine) as uow:
        creator = make_user(uow)
        member = make_user(uow)
        workspace = uow.workspaces.add(
            workspace=Workspace(
                name="acme",
                creator_id=creator.id,  # type: ignore[arg-type]
                active=False,
                grace_period_extension=48,
            )
        )
        seat = add(
            uow,
            WorkspaceUser(
                workspace_id=workspace.id,  # type: ignore[arg-type]
                user_id=member.id,  # type: ignore[arg-type]
                public_id=f"wu-{unique_suffix()}",
                status="ACTIVE",
                activated_account_at=T0,
                manage_billing=True,
            ),
        )
        uow.commit()

    with UnitOfWork(any_lineblocs_engine) as uow:
        read = uow.workspaces.get(workspace_id=workspace.id)  # type: ignore[arg-type]
        read_creator = uow.workspaces.creator(workspace_id=workspace.id)  # type: ignore[arg-type]
    assert read is not None
    assert_columns_equal(workspace, read)
    assert read.active is False
    assert read.grace_period_extension == 48
    assert read_creator is not None
    assert read_creator.id == creator.id
    assert_roundtrip(any_lineblocs_engine, seat)
    assert reread(any_lineblocs_engine, seat).activated_account_at == T0


@roundtrip_of("service_plans")
def test_service_plans_roundtrip(any_lineblocs_engine: Engine) -> None:
    with UnitOfWork(any_lineblocs_engine) as uow:
        priced = uow.plans.add(
            plan=ServicePlan(
                key_name="company",
                nice_name="Company",
                annual_cost_cents=49_990,
                minutes_per_month=500,
                recording_space="2gb",
                fax=True,
                deleted_at=T0,
            ),
            monthly_cost_cents=4999,
        )
        uow.commit()

    with UnitOfWork(any_lineblocs_engine) as uow:
        read = uow.plans.get(plan_id=priced.plan.id)  # type: ignore[arg-type]
    assert read is not None, "soft-deleted plans must still be found"
    assert_columns_equal(priced.plan, read.plan)
    assert read.monthly_cost_cents == 4999
    assert type(read.monthly_cost_cents) is int
    assert read.price_cents(annual=True) == 49_990
    assert read.plan.fax is True
    assert read.plan.deleted_at == T0


@roundtrip_of("subscriptions")
def test_subscriptions_roundtrip(any_lineblocs_engine: Engine) -> None:
    with UnitOfWork(any_lineblocs_engine) as uow:
        user = make_user(uow)
        workspace = make_workspace(uow, creator=user)
        basic = make_plan(uow)
        company = make_plan(uow, key_name="company", nice_name="Company", monthly_cost_cents=4999)
        subscription = uow.subscriptions.add(
            subscription=Subscription(
                workspace_id=workspace.id,  # type: ignore[arg-type]
                current_plan_id=basic.plan.id,  # type: ignore[arg-type]
                billing_cycle=BillingCycle.ANNUAL,
                current_period_end=T1,
                next_billing_date=T1,
                last_billed_at=T0,
                scheduled_plan_id=company.plan.id,
                scheduled_effective_date=T1,
                provider_subscription_id=f"sub_{unique_suffix()}",
                billing_anchor_day=14,
                is_free_trial_active=True,
                free_trial_start_date=T0,
                free_trial_end_date=T0 + timedelta(days=14),
                cancel_at_period_end=True,
            )
        )
        uow.commit()

    with UnitOfWork(any_lineblocs_engine) as uow:
        read = uow.subscriptions.get(subscription_id=subscription.id)  # type: ignore[arg-type]
    assert read is not None
    assert_columns_equal(subscription, read)
    assert read.billing_cycle is BillingCycle.ANNUAL
    assert read.status == "ACTIVE"
    assert read.current_period_end == T1
    assert read.cancel_at_period_end is True
    (cycle,) = raw_row(
        any_lineblocs_engine, "SELECT billing_cycle FROM subscriptions WHERE id = :id", id=read.id
    )
    assert cycle == "ANNUAL"


@roundtrip_of("users_invoices", "users_invoices_line_items")
def test_invoices_with_line_items_roundtrip(any_lineblocs_engine: Engine) -> None:
    costs = {
        "call_costs": 4998,
        "recording_costs": 0,
        "fax_costs": 0,
        "membership_costs": 2499,
        "number_costs": 0,
    }
    with UnitOfWork(any_lineblocs_engine) as uow:
        chain = make_billing_chain(uow)
        dedup_key = f"MONTHLY:{chain.workspace.id}:2026-03-14"
        invoice = uow.invoices.add(
            invoice=Invoice(
                created_at=T0,
                updated_at=T0,
                workspace_id=chain.workspace.id,  # type: ignore[arg-type]
                user_id=chain.user.id,
                cents=7497,
                source="SUBSCRIPTION",
                status="PENDING",
                cents_including_taxes=8472,
                cents_taxes=975,
                tax_metadata="[]",
                due_date=T1,
                invoice_no=f"M-{chain.workspace.id}-20260314150926",
                deduplication_key=dedup_key,
                source_service="LINEBLOCS_JOBS",
                call_costs=costs["call_costs"],
                recording_costs=costs["recording_costs"],
                fax_costs=costs["fax_costs"],
                membership_costs=costs["membership_costs"],
                number_costs=costs["number_costs"],
            ),
            line_items=[
                InvoiceLineItem(key_name=key, name=key.replace("_", " "), cents=cents)
                for key, cents in costs.items()
            ],
        )
        uow.commit()

    with UnitOfWork(any_lineblocs_engine) as uow:
        read = uow.invoices.get(invoice_id=invoice.id)  # type: ignore[arg-type]
        by_key = uow.invoices.by_dedup_key(deduplication_key=dedup_key)
        items = list(uow.invoices.line_items(invoice_id=invoice.id))  # type: ignore[arg-type]
    assert read is not None
    assert_columns_equal(invoice, read)
    assert (read.cents, read.cents_including_taxes, read.cents_taxes) == (7497, 8472, 975)
    assert read.created_at == T0
    assert read.invoice_type == "RECURRING_BILL"
    assert by_key is not None
    assert by_key.id == invoice.id
    assert {item.key_name: item.cents for item in items} == costs
    assert all(type(item.cents) is int and item.is_recurring is False for item in items)


@roundtrip_of("users_invoices_payments")
def test_invoice_payments_roundtrip(any_lineblocs_engine: Engine) -> None:
    with UnitOfWork(any_lineblocs_engine) as uow:
        user = make_user(uow)
        workspace = make_workspace(uow, creator=user)
        payment = add(
            uow,
            InvoicePayment(
                user_id=user.id,
                workspace_id=workspace.id,
                cents=8472,
                source="CARD",
                status="PAID",
                created_at=T0,
                updated_at=T0,
            ),
        )
        uow.commit()
    assert_roundtrip(any_lineblocs_engine, payment)


@roundtrip_of("users_debits")
def test_debits_roundtrip(any_lineblocs_engine: Engine) -> None:
    with UnitOfWork(any_lineblocs_engine) as uow:
        user = make_user(uow)
        workspace = make_workspace(uow, creator=user)
        debit = uow.debits.add(
            debit=Debit(
                created_at=T0,
                updated_at=T0,
                user_id=user.id,
                workspace_id=workspace.id,
                cents=137,
                source="CALL",
                status="INCOMPLETE",
                module_id=42,
                deduplication_key="CALL:42",
            )
        )
        uow.commit()

    assert_roundtrip(any_lineblocs_engine, debit)
    with UnitOfWork(any_lineblocs_engine) as uow:
        by_key = uow.debits.by_dedup_key(deduplication_key="CALL:42")
        in_period = uow.debits.for_workspace_between(
            workspace_id=workspace.id,  # type: ignore[arg-type]
            start=T0,
            end=T0 + timedelta(seconds=1),
        )
        after = uow.debits.for_workspace_between(
            workspace_id=workspace.id,  # type: ignore[arg-type]
            start=T0 + timedelta(seconds=1),
            end=T1,
        )
    assert by_key is not None
    assert by_key.cents == 137
    assert [d.id for d in in_period] == [debit.id]
    assert list(after) == []


@roundtrip_of("users_cards", "users_credits")
def test_cards_and_credits_roundtrip(any_lineblocs_engine: Engine) -> None:
    with UnitOfWork(any_lineblocs_engine) as uow:
        user = make_user(uow)
        workspace = make_workspace(uow, creator=user)
        card = uow.cards.add(
            card=Card(
                workspace_id=workspace.id,  # type: ignore[arg-type]
                user_id=user.id,
                issuer="mastercard",
                last_4="4444",
                primary=True,
                exp_month=12,
                exp_year=2030,
            )
        )
        credit = add(
            uow,
            Credit(
                created_at=T0,
                updated_at=T0,
                user_id=user.id,
                workspace_id=workspace.id,
                card_id=card.id,
                cents=5000,
                balance=5000,
                source="CARD",
                status="APPROVED",
                deduplication_key=f"CREDITS:{workspace.id}:2026-03-14",
            ),
        )
        uow.commit()

    assert_roundtrip(any_lineblocs_engine, card, credit)
    primary, backup = raw_row(
        any_lineblocs_engine, "SELECT `primary`, backup FROM users_cards WHERE id = :id", id=card.id
    )
    assert (primary, backup) == (1, 0)
    assert reread(any_lineblocs_engine, card).primary is True


@roundtrip_of("calls")
def test_calls_roundtrip(any_lineblocs_engine: Engine) -> None:
    # An aware non-UTC datetime is stored as UTC wall time and reads back as the same instant.
    started_eastern = datetime(2026, 3, 14, 10, 9, 26, tzinfo=EASTERN_STANDARD)
    with UnitOfWork(any_lineblocs_engine) as uow:
        user = make_user(uow)
        workspace = make_workspace(uow, creator=user)
        call = add(
            uow,
            Call(
                api_id=f"call-{unique_suffix()}",
                from_="+15145550100",
                to="+14165550199",
                status="ENDED",
                direction="outbound",
                duration=125,
                user_id=user.id,  # type: ignore[arg-type]
                workspace_id=workspace.id,  # type: ignore[arg-type]
                started_at=started_eastern,
                ended_at=T0 + timedelta(seconds=125),
                billed=True,
            ),
        )
        uow.commit()

    assert_roundtrip(any_lineblocs_engine, call)
    read = reread(any_lineblocs_engine, call)
    assert (read.from_, read.to) == ("+15145550100", "+14165550199")
    assert read.started_at == T0
    assert read.started_at.tzinfo is UTC
    assert read.billed is True
    raw_from, raw_to, raw_started = raw_row(
        any_lineblocs_engine,
        "SELECT `from`, `to`, started_at FROM calls WHERE id = :id",
        id=call.id,
    )
    assert (raw_from, raw_to) == ("+15145550100", "+14165550199")
    assert raw_started == T0.replace(tzinfo=None)


@roundtrip_of("recordings", "faxes")
def test_recordings_and_faxes_roundtrip(any_lineblocs_engine: Engine) -> None:
    with UnitOfWork(any_lineblocs_engine) as uow:
        user = make_user(uow)
        workspace = make_workspace(uow, creator=user)
        call = make_call(uow, workspace=workspace)
        recording = add(
            uow,
            Recording(
                api_id=f"rec-{unique_suffix()}",
                status="FINALIZED",
                user_id=user.id,  # type: ignore[arg-type]
                workspace_id=workspace.id,  # type: ignore[arg-type]
                call_id=call.id,
                duration=120,
                size=2048.5,
                trim=True,
            ),
        )
        fax = add(
            uow,
            Fax(
                api_id=f"fax-{unique_suffix()}",
                workspace_id=workspace.id,  # type: ignore[arg-type]
                user_id=user.id,
                call_id=call.id,  # type: ignore[arg-type]
                size=3,
            ),
        )
        uow.commit()

    assert_roundtrip(any_lineblocs_engine, call, recording, fax)
    assert reread(any_lineblocs_engine, recording).trim is True


@roundtrip_of("did_numbers")
def test_did_numbers_roundtrip(any_lineblocs_engine: Engine) -> None:
    with UnitOfWork(any_lineblocs_engine) as uow:
        user = make_user(uow)
        workspace = make_workspace(uow, creator=user)
        number = add(
            uow,
            DidNumber(
                number="+15145550123",
                workspace_id=workspace.id,  # type: ignore[arg-type]
                user_id=user.id,
                monthly_cost=125,
                setup_cost=100,
                public_id=f"did-{unique_suffix()}",
                active=False,
            ),
        )
        uow.commit()
    assert_roundtrip(any_lineblocs_engine, number)


@roundtrip_of("debugger_logs", "error_user_trace")
def test_logs_roundtrip(any_lineblocs_engine: Engine) -> None:
    with UnitOfWork(any_lineblocs_engine) as uow:
        user = make_user(uow)
        workspace = make_workspace(uow, creator=user)
        log = add(
            uow,
            DebuggerLog(
                created_at=T0,
                updated_at=T0,
                from_="+15145550100",
                to="1000",
                title="Flow started",
                report="cell 'Start' entered",
                workspace_id=workspace.id,  # type: ignore[arg-type]
                api_id=f"log-{unique_suffix()}",
                level="error",
            ),
        )
        trace = add(
            uow,
            ErrorUserTrace(
                message="Unhandled exception",
                full_url="https://app.lineblocs.com/dashboard",
                workspace_id=workspace.id,
                user_id=user.id,
            ),
        )
        uow.commit()

    assert_roundtrip(any_lineblocs_engine, log, trace)
    assert reread(any_lineblocs_engine, log).from_ == "+15145550100"
    raw_from, raw_to = raw_row(
        any_lineblocs_engine, "SELECT `from`, `to` FROM debugger_logs WHERE id = :id", id=log.id
    )
    assert (raw_from, raw_to) == ("+15145550100", "1000")


@roundtrip_of("usage_triggers", "usage_triggers_results")
def test_usage_triggers_roundtrip(any_lineblocs_engine: Engine) -> None:
    with UnitOfWork(any_lineblocs_engine) as uow:
        user = make_user(uow)
        workspace = make_workspace(uow, creator=user)
        credit = add(
            uow,
            Credit(
                workspace_id=workspace.id,
                user_id=user.id,
                cents=1000,
                balance=1000,
                source="REGISTER_CREDITS",
                status="APPROVED",
            ),
        )
        trigger = add(uow, UsageTrigger(user_id=user.id, workspace_id=workspace.id, percentage=80))
        result = add(
            uow,
            UsageTriggerResult(usage_trigger_id=trigger.id, credit_id=credit.id),  # type: ignore[arg-type]
        )
        uow.commit()
    assert_roundtrip(any_lineblocs_engine, trigger, result)


@roundtrip_of("billing_countries", "billing_regions", "billing_taxes")
def test_billing_geography_roundtrip(any_lineblocs_engine: Engine) -> None:
    with UnitOfWork(any_lineblocs_engine) as uow:
        canada = add(uow, BillingCountry(name="Canada", iso="CA"))
        ontario = add(
            uow,
            BillingRegion(name="Ontario", short_name="ON", billing_country_id=canada.id),  # type: ignore[arg-type]
        )
        hst = add(
            uow,
            BillingTax(
                name="HST",
                tax_percentage=13.0,
                primary_tax=True,
                region_id=ontario.id,
                country_id=canada.id,
            ),
        )
        user = make_user(uow)
        workspace = make_workspace(
            uow, creator=user, billing_country_id=canada.id, billing_region_id=ontario.id
        )
        uow.commit()

    assert_roundtrip(any_lineblocs_engine, canada, ontario, hst, workspace)
    assert reread(any_lineblocs_engine, hst).tax_percentage == 13.0


@roundtrip_of("workspaces_suspensions")
def test_workspace_suspensions_roundtrip(any_lineblocs_engine: Engine) -> None:
    with UnitOfWork(any_lineblocs_engine) as uow:
        chain = make_billing_chain(uow)
        invoice = uow.invoices.add(
            invoice=Invoice(
                workspace_id=chain.workspace.id,  # type: ignore[arg-type]
                cents=2499,
                source="SUBSCRIPTION",
                status="FAILED",
                cents_including_taxes=2499,
                cents_taxes=0,
                tax_metadata="[]",
            ),
            line_items=[],
        )
        suspension = add(
            uow,
            WorkspaceSuspension(
                workspace_id=chain.workspace.id,  # type: ignore[arg-type]
                reason="UNPAID_INVOICE",
                invoice_id=invoice.id,
                suspended_at=T1,
                suspension_initiated_at=T0,
                grace_period_extension=48,
            ),
        )
        uow.commit()

    assert_roundtrip(any_lineblocs_engine, suspension)
    read = reread(any_lineblocs_engine, suspension)
    assert (read.status, read.suspended_at) == ("INITIATED", T1)


@roundtrip_of("customizations_kv_store", "api_credentials_kv_store")
def test_settings_kv_stores_roundtrip(any_lineblocs_engine: Engine) -> None:
    with UnitOfWork(any_lineblocs_engine) as uow:
        flow = add(uow, CustomizationsKVStore.of("billing_flow", "ANNUAL"))
        retries = add(uow, CustomizationsKVStore.of("billing_num_retries", 3))
        enabled = add(uow, CustomizationsKVStore.of("billing_retry_enabled", True))
        mode = add(uow, ApiCredentialsKVStore.of("stripe_mode", "test"))
        uow.commit()

    assert_roundtrip(any_lineblocs_engine, flow, retries, enabled, mode)
    assert reread(any_lineblocs_engine, enabled).boolean_value is True
    # `key` is a reserved word: the model must have written the back-quoted column.
    key, value_type, number = raw_row(
        any_lineblocs_engine,
        "SELECT `key`, value_type, number_value FROM customizations_kv_store WHERE id = :id",
        id=retries.id,
    )
    assert (key, value_type, number) == ("billing_num_retries", "number", 3)


# --- schema completeness -----------------------------------------------------------------------


def test_every_required_column_is_mapped(any_lineblocs_engine: Engine) -> None:
    """A strict-mode INSERT through a model names every NOT NULL column without a default.

    Read from the real database, not from the TSV; READ_ONLY_TABLES are exempt. The model must
    map the column (a column in `__table__` but not in the mapper is never inserted) and map it
    NOT NULL (never bind NULL).
    """
    with any_lineblocs_engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.COLUMNS"
                " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN :tables"
                " AND IS_NULLABLE = 'NO' AND COLUMN_DEFAULT IS NULL"
                " AND EXTRA NOT LIKE '%auto_increment%'"
                " ORDER BY TABLE_NAME, ORDINAL_POSITION"
            ).bindparams(bindparam("tables", expanding=True)),
            {"tables": sorted(MODEL_TABLES)},
        ).all()
        tables_present = set(
            conn.execute(
                text(
                    "SELECT TABLE_NAME FROM information_schema.TABLES"
                    " WHERE TABLE_SCHEMA = DATABASE()"
                )
            ).scalars()
        )
    assert sorted(MODEL_TABLES - tables_present) == []
    assert rows, "information_schema returned no required columns: query is wrong"

    mapped: dict[str, dict[str, Any]] = {}  # table -> mapped column name -> Column
    for mapper in LineblocsTable._sa_registry.mappers:  # SQLModel's registry: our tables too
        table_name = getattr(mapper.local_table, "name", None)
        if table_name in MODEL_TABLES:
            columns = {attr.columns[0].name: attr.columns[0] for attr in mapper.column_attrs}
            mapped[table_name] = columns
    assert set(mapped) == MODEL_TABLES
    unmapped = [f"{t}.{c}" for t, c in rows if c not in mapped[t]]
    nullable = [f"{t}.{c}" for t, c in rows if c in mapped[t] and mapped[t][c].nullable]
    assert unmapped == [], "NOT NULL columns without a default that no model maps"
    assert nullable == [], "NOT NULL columns without a default that a model maps as nullable"


def test_money_columns_are_not_null_int_or_double_per_variant(any_lineblocs_engine: Engine) -> None:
    """The variants differ in type only: the round trips above cover both representations."""
    expected_type = {"fresh": "int", "legacy": "double"}[schema_variant(any_lineblocs_engine)]
    with any_lineblocs_engine.connect() as conn:
        found = {
            (t, c): (data_type, nullable)
            for t, c, data_type, nullable in conn.execute(
                text(
                    "SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, IS_NULLABLE"
                    " FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()"
                    " AND TABLE_NAME IN :tables"
                ).bindparams(bindparam("tables", expanding=True)),
                {"tables": sorted(MONEY_COLUMNS)},
            )
        }
    for table, columns in MONEY_COLUMNS.items():
        for column in columns:
            assert found[(table, column)] == (expected_type, "NO"), f"{table}.{column}"


def test_schema_probe_finds_no_missing_mapped_columns(any_lineblocs_engine: Engine) -> None:
    probe = probe_schema(any_lineblocs_engine)
    assert probe.missing_mapped_columns() == {}
    assert probe.plan_monthly_price_column == plan_price_column(any_lineblocs_engine)


# --- money, zero dates, the plan price ----------------------------------------------------------


def make_money_rows(uow: UnitOfWork) -> dict[str, int]:
    """One row in each table with a money column; their ids by table."""
    chain = make_billing_chain(uow)
    workspace_id, user_id = chain.workspace.id, chain.user.id
    invoice = uow.invoices.add(
        invoice=Invoice(
            workspace_id=workspace_id,  # type: ignore[arg-type]
            user_id=user_id,
            cents=0,
            source="SUBSCRIPTION",
            status="PENDING",
            cents_including_taxes=0,
            cents_taxes=0,
            tax_metadata="[]",
        ),
        line_items=[InvoiceLineItem(key_name="call_costs", cents=0)],
    )
    (item,) = uow.invoices.line_items(invoice_id=invoice.id)  # type: ignore[arg-type]
    debit = uow.debits.add(
        debit=Debit(
            workspace_id=workspace_id, user_id=user_id, cents=0, source="CALL", status="CREATED"
        )
    )
    credit = add(
        uow,
        Credit(
            workspace_id=workspace_id,
            user_id=user_id,
            cents=0,
            balance=0,
            source="CARD",
            status="APPROVED",
        ),
    )
    return {
        "users_invoices": invoice.id,  # type: ignore[dict-item]
        "users_invoices_line_items": item.id,  # type: ignore[dict-item]
        "users_debits": debit.id,  # type: ignore[dict-item]
        "users_credits": credit.id,  # type: ignore[dict-item]
    }


MONEY_MODELS: dict[str, type[LineblocsTable]] = {
    "users_invoices": Invoice,
    "users_invoices_line_items": InvoiceLineItem,
    "users_debits": Debit,
    "users_credits": Credit,
}


@pytest.mark.parametrize(
    ("table", "column", "stored", "expected"),
    [
        ("users_invoices", "cents", "74.97", 75),
        ("users_invoices", "cents", "74.50", 75),
        ("users_invoices", "cents", "74.49", 74),
        ("users_invoices", "cents_taxes", "0.50", 1),
        ("users_invoices_line_items", "cents", "1249.50", 1250),
        ("users_debits", "cents", "-0.50", -1),
        ("users_debits", "cents", "-0.49", 0),
        ("users_credits", "cents", "-74.51", -75),
    ],
    ids=lambda v: str(v),
)
def test_fractional_money_reads_as_int_rounded_half_away_from_zero(
    any_lineblocs_engine: Engine, table: str, column: str, stored: str, expected: int
) -> None:
    """Legacy DOUBLE(8,2): the model rounds (`round_half_up`: .5 goes away from zero, so -0.50
    reads -1). Fresh INT: MySQL itself rounds the literal the same way when storing it."""
    assert round_half_up(stored) == expected  # the rule, independent of the database
    with UnitOfWork(any_lineblocs_engine) as uow:
        row_id = make_money_rows(uow)[table]
        uow.commit()
    with any_lineblocs_engine.begin() as conn:
        # `stored` comes from the parameter list above: a numeric literal, as Laravel wrote it.
        conn.execute(text(f"UPDATE {table} SET {column} = {stored} WHERE id = :id"), {"id": row_id})

    (raw,) = raw_row(
        any_lineblocs_engine, f"SELECT {column} FROM {table} WHERE id = :id", id=row_id
    )
    if schema_variant(any_lineblocs_engine) == "legacy":
        assert raw == float(stored), "DOUBLE(8,2) keeps the fraction: the model must round it"
    else:
        assert (type(raw), raw) == (int, expected), "INT: MySQL rounded when storing"

    with UnitOfWork(any_lineblocs_engine) as uow:
        row = uow.session.get(MONEY_MODELS[table], row_id)
    value = getattr(row, column)
    assert type(value) is int
    assert value == expected


def test_zero_timestamp_reads_as_none(any_lineblocs_engine: Engine) -> None:
    """A row Laravel wrote without created_at/updated_at/current_period_end ('0000-00-00')."""
    with UnitOfWork(any_lineblocs_engine) as uow:
        user = make_user(uow)
        workspace = make_workspace(uow, creator=user)
        plan = make_plan(uow)
        uow.commit()
    with any_lineblocs_engine.begin() as conn:
        subscription_id = conn.execute(
            text(
                "INSERT INTO subscriptions (workspace_id, current_plan_id, billing_cycle)"
                " VALUES (:workspace_id, :plan_id, 'MONTHLY')"
            ),
            {"workspace_id": workspace.id, "plan_id": plan.plan.id},
        ).lastrowid

    raw = raw_row(
        any_lineblocs_engine,
        "SELECT CAST(current_period_end AS CHAR), CAST(created_at AS CHAR)"
        " FROM subscriptions WHERE id = :id",
        id=subscription_id,
    )
    assert tuple(raw) == ("0000-00-00 00:00:00", "0000-00-00 00:00:00")

    with UnitOfWork(any_lineblocs_engine) as uow:
        read = uow.subscriptions.get(subscription_id=subscription_id)
    assert read is not None
    assert read.current_period_end is None
    assert read.created_at is None
    assert read.updated_at is None
    assert read.next_billing_date is None  # a real NULL, for comparison
    assert read.billing_cycle is BillingCycle.MONTHLY


def test_plan_price_is_written_to_the_variants_column(any_lineblocs_engine: Engine) -> None:
    with UnitOfWork(any_lineblocs_engine) as uow:
        added = uow.plans.add(plan=ServicePlan(key_name="basic"), monthly_cost_cents=2499)
        uow.commit()
    assert added.monthly_cost_cents == 2499

    with UnitOfWork(any_lineblocs_engine) as uow:
        read = uow.plans.get(plan_id=added.plan.id)  # type: ignore[arg-type]
    assert read is not None
    assert read.monthly_cost_cents == 2499

    column = plan_price_column(any_lineblocs_engine)
    (raw,) = raw_row(
        any_lineblocs_engine, f"SELECT {column} FROM service_plans WHERE id = :id", id=read.plan.id
    )
    assert raw == 2499


def test_plans_get_returns_none_for_an_unknown_plan(any_lineblocs_engine: Engine) -> None:
    with UnitOfWork(any_lineblocs_engine) as uow:
        assert uow.plans.get(plan_id=999_999) is None


# --- repositories ------------------------------------------------------------------------------


def test_default_card_prefers_primary_then_backup_then_none(any_lineblocs_engine: Engine) -> None:
    with UnitOfWork(any_lineblocs_engine) as uow:
        user = make_user(uow)
        both, backup_only, plain_only, no_cards = (
            make_workspace(uow, creator=user) for _ in range(4)
        )
        # The backup card is added first (lower id): primary must still win.
        make_card(uow, workspace=both, backup=True, last_4="0001")
        make_card(uow, workspace=both, last_4="0002")
        primary = make_card(uow, workspace=both, primary=True, last_4="0003")
        make_card(uow, workspace=backup_only, last_4="0004")
        backup = make_card(uow, workspace=backup_only, backup=True, last_4="0005")
        make_card(uow, workspace=plain_only, last_4="0006")
        uow.commit()

    with UnitOfWork(any_lineblocs_engine) as uow:

        def default(workspace: Workspace) -> Card | None:
            return uow.cards.default_for_workspace(workspace_id=workspace.id)  # type: ignore[arg-type]

        chosen_both, chosen_backup = default(both), default(backup_only)
        assert default(plain_only) is None
        assert default(no_cards) is None
    assert chosen_both is not None
    assert chosen_both.id == primary.id
    assert chosen_both.primary is True
    assert chosen_backup is not None
    assert chosen_backup.id == backup.id
    assert chosen_backup.backup is True


def test_unit_of_work_rolls_back_without_commit(any_lineblocs_engine: Engine) -> None:
    added: list[User] = []

    def failing_job() -> None:
        with UnitOfWork(any_lineblocs_engine) as uow:
            added.append(make_user(uow))
            raise RuntimeError("job failed")

    with UnitOfWork(any_lineblocs_engine) as uow:
        added.append(make_user(uow))  # flushed: the INSERT reached MySQL, no commit follows
    with pytest.raises(RuntimeError, match="job failed"):
        failing_job()

    assert [user.id is not None for user in added] == [True, True]
    with UnitOfWork(any_lineblocs_engine) as uow:
        assert [uow.users.get(user_id=user.id) for user in added] == [None, None]  # type: ignore[arg-type]
    (count,) = raw_row(any_lineblocs_engine, "SELECT COUNT(*) FROM users")
    assert count == 0
