"""Fixtures of the charging tests: a tenant billed for October 2026 on the real MariaDB.

`Billed` wires the real handlers to a gateway of the test's choosing (the fake by default, a
crashing wrapper, or Stripe/Braintree over HTTP through `SettingsGateways`) and to a clock the
test moves (dunning). A "crash" is a `WorkerKilled` (a BaseException, as a kill skips every
`except Exception`) raised at a chosen point of the gateway calls; the "redelivery" is the same
handler called again.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from sqlmodel import col

from lineblocs_billing import handlers
from lineblocs_billing.bootstrap import Billing
from lineblocs_billing.handlers import BillReport
from lineblocs_billing.settings import BillingSettings
from lineblocs_billing.settling.gateways import FixedGateway, GatewayProvider
from lineblocs_billing.settling.locks import period_locks_for
from lineblocs_billing.settling.outcome import SettlingOutcome
from lineblocs_shared.clock import FixedClock
from lineblocs_shared.contracts import BillSubscription, RetryInvoicePayment
from lineblocs_shared.db import migrate
from lineblocs_shared.db.uow import UnitOfWork
from lineblocs_shared.models.billing import Invoice, InvoicePayment, WorkspaceSuspension
from lineblocs_shared.models.billing_runs import BillingPeriodRecord, PaymentAttempt
from lineblocs_shared.models.jobs import OutboxMessage
from lineblocs_shared.models.settings_store import ApiCredentialsKVStore, CustomizationsKVStore
from lineblocs_shared.payments import ChargeRequest, FakeGateway, GatewayPayment
from lineblocs_shared.settings import load_settings
from tests.factories import make_card
from tests.integration.billing.invoicing.scenario import END, NOW, START, Tenant, make_tenant


class WorkerKilled(BaseException):
    """The worker died here (SIGKILL, OOM): nothing after this point ran."""


@dataclass
class CrashingGateway:
    """The fake gateway, with a kill at the chosen points, each once:
    before_create, after_create (the payment exists, its id never came back), before_confirm,
    after_confirm (the money is taken, nobody heard)."""

    inner: FakeGateway
    crash_at: set[str] = field(default_factory=set)

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def currency(self) -> str:
        return self.inner.currency

    def _maybe_crash(self, point: str) -> None:
        if point in self.crash_at:
            self.crash_at.discard(point)
            raise WorkerKilled(point)

    def create_payment(self, req: ChargeRequest) -> GatewayPayment:
        self._maybe_crash("before_create")
        payment = self.inner.create_payment(req)
        self._maybe_crash("after_create")
        return payment

    def confirm_payment(self, payment_id: str, *, attempt_key: str) -> GatewayPayment:
        self._maybe_crash("before_confirm")
        payment = self.inner.confirm_payment(payment_id, attempt_key=attempt_key)
        self._maybe_crash("after_confirm")
        return payment

    def find_payment(
        self, attempt_key: str, *, customer_id: str, payment_id: str | None = None
    ) -> GatewayPayment | None:
        return self.inner.find_payment(attempt_key, customer_id=customer_id, payment_id=payment_id)


@dataclass
class Billed:
    """The billing service on one database, billed at a clock the test controls."""

    engine: Engine
    fake: FakeGateway
    clock: FixedClock
    gateways: GatewayProvider
    resettle_after_min: int = 60

    @property
    def deps(self) -> Billing:
        return Billing(
            settings=load_settings(database_url=self.engine.url.render_as_string(False)),
            options=BillingSettings(billing_resettle_after_min=self.resettle_after_min),
            engine=self.engine,
            clock=self.clock,
            gateways=self.gateways,
            locks=period_locks_for(self.engine),
        )

    def use(self, gateway: Any) -> None:
        self.gateways = FixedGateway(gateway)

    # --- data --------------------------------------------------------------------------------

    def tenant(
        self, *, card: str | None = "pm_card_ok", customer: str | None = None, **kw: Any
    ) -> Tenant:
        with UnitOfWork(self.engine) as uow:
            tenant = make_tenant(uow, **kw)
            if customer is not None:
                tenant.user.stripe_id = customer
                uow.session.add(tenant.user)
            if card is not None:
                make_card(
                    uow,
                    workspace=tenant.workspace,
                    stripe_payment_method_id=card,
                    primary=True,
                    issuer="mastercard",
                    last_4="4444",
                )
            uow.commit()
        return tenant

    def customize(self, **values: bool | int | str) -> None:
        """Lineblocs settings rows (customizations_kv_store), as the admin UI saves them."""
        with UnitOfWork(self.engine) as uow:
            uow.session.add_all(CustomizationsKVStore.of(k, v) for k, v in values.items())
            uow.commit()

    def credentials(self, **values: str) -> None:
        with UnitOfWork(self.engine) as uow:
            uow.session.add_all(ApiCredentialsKVStore.of(k, v) for k, v in values.items())
            uow.commit()

    # --- the handlers --------------------------------------------------------------------------

    def bill(self, tenant: Tenant) -> BillReport:
        payload = BillSubscription(
            subscription_id=tenant.subscription_id, period_start=START, period_end=END
        )
        return handlers.bill_subscription(self.deps, payload)

    def retry(self, tenant: Tenant) -> SettlingOutcome:
        period_id = self.record(tenant).id
        assert period_id is not None
        return handlers.retry_invoice_payment(
            self.deps, RetryInvoicePayment(billing_period_id=period_id)
        )

    def advance(self, delta: timedelta) -> None:
        self.clock.at = self.clock.at + delta

    # --- what was written ----------------------------------------------------------------------

    def _one(self, stmt: Any) -> Any:
        with UnitOfWork(self.engine) as uow:
            return uow.session.execute(stmt).scalars().one()

    def _all(self, stmt: Any) -> list[Any]:
        with UnitOfWork(self.engine) as uow:
            return list(uow.session.execute(stmt).scalars().all())

    def record(self, tenant: Tenant) -> BillingPeriodRecord:
        periods = BillingPeriodRecord
        return self._one(select(periods).where(col(periods.workspace_id) == tenant.workspace_id))

    def invoice(self, tenant: Tenant) -> Invoice:
        return self._one(select(Invoice).where(col(Invoice.workspace_id) == tenant.workspace_id))

    def attempts(self, tenant: Tenant) -> list[PaymentAttempt]:
        attempts = PaymentAttempt
        return self._all(
            select(attempts)
            .where(col(attempts.workspace_id) == tenant.workspace_id)
            .order_by(col(attempts.attempt_no))
        )

    def payments(self, tenant: Tenant) -> list[InvoicePayment]:
        payments = InvoicePayment
        return self._all(select(payments).where(col(payments.workspace_id) == tenant.workspace_id))

    def suspensions(self, tenant: Tenant) -> list[WorkspaceSuspension]:
        rows = WorkspaceSuspension
        return self._all(select(rows).where(col(rows.workspace_id) == tenant.workspace_id))

    def events(self, actor: str, tenant: Tenant) -> list[dict[str, Any]]:
        rows = self._all(select(OutboxMessage).where(col(OutboxMessage.actor_name) == actor))
        payloads = [json.loads(row.payload) for row in rows]
        return [p for p in payloads if p["workspace_id"] == tenant.workspace_id]


@pytest.fixture
def billed(jobs_engine: Engine) -> Billed:
    fake = FakeGateway(currency="CAD")
    return Billed(engine=jobs_engine, fake=fake, clock=FixedClock(NOW), gateways=FixedGateway(fake))


@pytest.fixture(params=["fresh", "legacy"])
def any_billed(request: pytest.FixtureRequest, lineblocs_engine: Engine) -> Billed:
    """Both schema variants: INT or DOUBLE(8,2) money, either plan price column."""
    if request.param == "legacy":
        from lineblocs_shared.db.reference import apply_legacy_variant

        apply_legacy_variant(lineblocs_engine)
    migrate.upgrade(lineblocs_engine)
    fake = FakeGateway(currency="CAD")
    return Billed(
        engine=lineblocs_engine, fake=fake, clock=FixedClock(NOW), gateways=FixedGateway(fake)
    )


def without_fk_checks(engine: Engine, work: Callable[[UnitOfWork], None]) -> None:
    """Write rows MariaDB's foreign keys would refuse (a plan deleted under its subscription)."""
    with UnitOfWork(engine) as uow:
        uow.session.execute(text("SET FOREIGN_KEY_CHECKS = 0"))
        work(uow)
        uow.commit()
        uow.session.execute(text("SET FOREIGN_KEY_CHECKS = 1"))
