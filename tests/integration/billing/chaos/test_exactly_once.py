"""Exactly once, proven under crashes: every subscription invoiced once and charged once.

240 subscriptions are billed by two `lineblocs-jobs worker billing` processes (4 threads each)
on the real RabbitMQ and MariaDB, charging Stripe's API as played by localstripe behind our
proxy, while workers are SIGKILLed (once between the gateway's charge and our commit), gateway
answers are lost, one worker's broker connections are cut and the distributor runs twice
(`chaos.py`). Then, for every subscription: one billing period, one invoice, one successful
charge counted by the gateway itself, of the invoice's amount, one payment row, one receipt
event; no attempt left unresolved; no dead letter. It runs twice: with Stripe's idempotency
keys honoured by the proxy, and ignored (the rules: one charge even then). The faults' moments
come from a seed printed at the start (`CHAOS_SEED=<n>` replays a run).
"""

from __future__ import annotations

import os
import random
import time
from collections import Counter
from collections.abc import Callable

import pytest
from sqlalchemy import Engine

from tests.integration.billing.chaos.chaos import HOLD_S, Chaos, WatchedStripeProxy, draw_plan
from tests.integration.billing.chaos.commands import enqueued, process_env, run_distributor
from tests.integration.billing.chaos.observe import (
    UNRESOLVED_ATTEMPTS,
    Progress,
    billing_periods,
    dead_letters,
    invoice_payments_by_workspace,
    invoices,
    payment_attempts,
    progress,
    queue_depth,
    receipts_by_invoice,
)
from tests.integration.billing.chaos.tenants import (
    DuePeriod,
    Tenant,
    seed_tenants,
    stripe_customers,
)
from tests.support.cuttable_relay import CuttableRelay
from tests.support.localstripe_server import LocalStripe
from tests.support.worker_supervisor import WorkerSupervisor, worker_argv

pytestmark = pytest.mark.integration

SEED = int(os.environ.get("CHAOS_SEED", "20261123"))
SUBSCRIPTIONS = 240
THREADS = 4
SETTLE_TIMEOUT_S = 90.0
DRAIN_TIMEOUT_S = 20.0


def test_every_subscription_is_invoiced_and_charged_exactly_once_through_crashes(
    jobs_engine: Engine,
    localstripe: LocalStripe,
    chaos_stripe: WatchedStripeProxy,
    chaos_queues: str,
    broker_relay: CuttableRelay,
    supervisor: WorkerSupervisor,
) -> None:
    print(f"chaos seed {SEED} (replay: CHAOS_SEED={SEED})")
    rng = random.Random(SEED)
    period = DuePeriod.ended_yesterday()
    customers = stripe_customers(localstripe.url, SUBSCRIPTIONS)
    tenants = seed_tenants(jobs_engine, customers, period=period)
    database_url = jobs_engine.url.render_as_string(hide_password=False)
    worker_settings = {
        "DATABASE_URL": database_url,
        "STRIPE_API_BASE": chaos_stripe.url,
        # No SDK retry: a lost answer reaches our code, which must reconcile it.
        "PAYMENT_NETWORK_RETRIES": "0",
        "PAYMENT_TIMEOUT_S": "10",
    }
    argv = worker_argv("billing", threads=THREADS)
    supervisor.add("worker-a", argv, process_env(QUEUE_URL=chaos_queues, **worker_settings))
    supervisor.add("worker-b", argv, process_env(QUEUE_URL=broker_relay.url, **worker_settings))
    supervisor.start()
    for name in supervisor.names:
        supervisor.wait_ready(name)

    distributor_env = process_env(DATABASE_URL=database_url, QUEUE_URL=chaos_queues)
    assert enqueued(run_distributor(distributor_env)) == SUBSCRIPTIONS
    chaos = Chaos(
        supervisor=supervisor,
        proxy=chaos_stripe,
        relay=broker_relay,
        relayed_worker="worker-b",
        engine=jobs_engine,
        distribute=lambda: run_distributor(distributor_env),
        rng=rng,
    )
    final = _run_until_settled(chaos, jobs_engine, diagnostics=lambda: _diagnostics(chaos))
    leftover = _drain(chaos_queues)
    supervisor.stop()
    report = _diagnostics(chaos) + f"\nleft in the queues after draining: {leftover}"

    _assert_one_invoice_per_subscription(jobs_engine, tenants, period, report)
    _assert_one_charge_per_subscription(jobs_engine, chaos_stripe, tenants, report)
    assert final.unresolved_attempts == 0, report
    assert dead_letters(jobs_engine) == [], report
    assert queue_depth(chaos_queues, "billing.XQ") == 0, report
    # Last, so that a double charge is reported as such: the proof needs the faults too.
    _assert_the_chaos_happened(chaos, report)


def _run_until_settled(chaos: Chaos, engine: Engine, *, diagnostics: Callable[[], str]) -> Progress:
    """Apply the plan as periods get paid; return once all are paid and nothing is pending."""
    steps = draw_plan(chaos.rng, periods=SUBSCRIPTIONS)
    chaos.log.append("plan: " + ", ".join(f"{s.action.name}@{s.at_paid}" for s in steps))
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    while True:
        now = progress(engine)
        while steps and steps[0].at_paid <= now.paid and chaos.apply(steps[0]):
            steps.pop(0)
        chaos.watch()
        done = now.paid == SUBSCRIPTIONS and now.unresolved_attempts == 0
        if done and not steps and chaos.settled_down:
            return now
        if time.monotonic() > deadline:
            pending = ", ".join(s.action.name for s in steps)
            raise AssertionError(
                f"not settled after {SETTLE_TIMEOUT_S}s: {now}; steps not applied: "
                f"[{pending}]\n{diagnostics()}"
            )
        time.sleep(0.05)


def _drain(amqp_url: str) -> int:
    """Let the workers consume the duplicates (redeliveries, the second distribution): until
    the queues stay empty for a second. Returns what is left when the time is up."""
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    empty_since: float | None = None
    while time.monotonic() < deadline:
        left = queue_depth(amqp_url, "billing") + queue_depth(amqp_url, "billing.DQ")
        if left:
            empty_since = None
        elif empty_since is None:
            empty_since = time.monotonic()
        elif time.monotonic() - empty_since >= 1.0:
            return 0
        time.sleep(0.1)
    return left


def _assert_the_chaos_happened(chaos: Chaos, report: str) -> None:
    supervisor = chaos.supervisor
    assert len(supervisor.kills) >= 3, report
    assert supervisor.wait_restarted(), report
    assert supervisor.unexpected_exits == [], report
    held = chaos.held_kill
    assert held is not None, report
    # Killed after the gateway took the money and before the worker could hear of it: our
    # database still said `created` (the payment existed, its outcome not recorded).
    assert held.state_at_kill == "created", report
    assert held.seconds_held < HOLD_S - 1, report
    assert [e.is_set() for e in chaos.lost_answers] == [True, True], report
    assert chaos.cut_connections >= 1, report
    assert len(chaos.second_distribution) == 1, report
    enqueued(chaos.second_distribution[0])  # ran and every message was confirmed


def _assert_one_invoice_per_subscription(
    engine: Engine, tenants: list[Tenant], period: DuePeriod, report: str
) -> None:
    by_workspace = {t.workspace_id: t for t in tenants}
    once_each = Counter(by_workspace.keys())
    periods = billing_periods(engine)
    assert Counter(p["workspace_id"] for p in periods) == once_each, report
    assert {p["state"] for p in periods} == {"paid"}, report
    assert {p["period_start"] for p in periods} == {period.start.replace(tzinfo=None)}, report

    rows = invoices(engine)
    expected_keys = Counter(f"MONTHLY:{ws}:{period.start:%Y-%m-%d}" for ws in by_workspace)
    assert Counter(row["deduplication_key"] for row in rows) == expected_keys, report
    for row in rows:
        price = by_workspace[row["workspace_id"]].price_cents
        paid = (row["status"], row["cents_including_taxes"], row["cents_collected"])
        assert paid == ("PAID", price, price), (row, report)
    assert invoice_payments_by_workspace(engine) == once_each, report
    assert receipts_by_invoice(engine) == Counter(row["id"] for row in rows), report


def _assert_one_charge_per_subscription(
    engine: Engine, proxy: WatchedStripeProxy, tenants: list[Tenant], report: str
) -> None:
    by_customer = {t.customer_id: t for t in tenants}
    # Counted at the gateway server (localstripe), not from our requests or our rows.
    succeeded = [i for i in proxy.succeeded_intents() if i["customer"] in by_customer]
    assert Counter(i["customer"] for i in succeeded) == Counter(by_customer.keys()), report
    invoice_of = {row["workspace_id"]: row for row in invoices(engine)}
    for intent in succeeded:
        tenant = by_customer[intent["customer"]]
        assert (intent["amount"], intent["currency"]) == (tenant.price_cents, "cad"), intent
        assert invoice_of[tenant.workspace_id]["payment_gateway_id"] == intent["id"], intent

    attempts = payment_attempts(engine)
    assert not [a for a in attempts if a["state"] in UNRESOLVED_ATTEMPTS], report
    succeeded_keys = [a["attempt_key"] for a in attempts if a["state"] == "succeeded"]
    # By attempt key, among this test's customers (localstripe outlives a test, and workspace
    # ids, hence keys, repeat in every fresh database).
    charges = Counter(str(intent["metadata"].get("attempt_key")) for intent in succeeded)
    assert charges == Counter(succeeded_keys), report
    assert len(succeeded_keys) == len(tenants), report


def _diagnostics(chaos: Chaos) -> str:
    lines = [f"seed {SEED}", *chaos.log, f"held kill: {chaos.held_kill}"]
    lines.append(f"kills {chaos.supervisor.kills}, restarts {chaos.supervisor.restarts}")
    lines.append(f"unexpected exits: {chaos.supervisor.unexpected_exits}")
    lines.append(f"second distribution: {chaos.second_distribution}")
    for name in chaos.supervisor.names:
        lines.append(chaos.supervisor.log_tail(name, lines=25))
    return "\n".join(lines)
