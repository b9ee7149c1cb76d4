"""An in-memory gateway for the demo, benchmarks and unit tests.

Deterministic by payment-method id:
- contains "decline_once": the first attempt of a period (key ending in `_1`) is declined with
  `card_declined`, later attempts succeed (a dunning retry after the customer fixed the card);
- else contains "decline": always declined with `card_declined`;
- contains "auth": declined with `authentication_required` (an off-session charge needing 3DS);
- anything else succeeds.
Idempotent per attempt key, like Stripe: creating twice returns the same payment. It counts the
successful charges so tests can prove "exactly one". Optional latency per call, for benchmarks.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from dataclasses import dataclass, replace

from lineblocs_shared.payments.errors import GatewayRequestRejected
from lineblocs_shared.payments.types import ChargeRequest, GatewayPayment, PaymentStatus


@dataclass(frozen=True)
class _Decline:
    code: str
    message: str


CARD_DECLINED = _Decline("card_declined", "Your card was declined.")
AUTH_REQUIRED = _Decline("authentication_required", "The card needs authentication.")


class FakeGateway:
    def __init__(self, *, currency: str = "CAD", latency_s: float = 0.0) -> None:
        self._currency = currency.upper()
        self._latency_s = latency_s
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._by_key: dict[str, tuple[ChargeRequest, GatewayPayment]] = {}
        self._by_id: dict[str, str] = {}  # payment id -> attempt key
        self.calls: Counter[str] = Counter()

    @property
    def name(self) -> str:
        return "fake"

    @property
    def currency(self) -> str:
        return self._currency

    @property
    def latency_s(self) -> float:
        return self._latency_s

    def create_payment(self, req: ChargeRequest) -> GatewayPayment:
        self._call("create")
        with self._lock:
            if req.attempt_key in self._by_key:
                earlier, payment = self._by_key[req.attempt_key]
                if earlier != req:  # Stripe's idempotency rule: same key, same parameters
                    raise GatewayRequestRejected(
                        f"attempt key {req.attempt_key} reused with other parameters"
                    )
                return payment
            payment = GatewayPayment(
                payment_id=f"fake_{next(self._ids):08d}",
                status=PaymentStatus.CREATED,
                amount_cents=req.amount_cents,
                currency=req.currency.upper(),
                gateway_status="requires_confirmation",
            )
            self._by_key[req.attempt_key] = (req, payment)
            self._by_id[payment.payment_id] = req.attempt_key
            return payment

    def confirm_payment(self, payment_id: str, *, attempt_key: str) -> GatewayPayment:
        self._call("confirm")
        with self._lock:
            key = self._by_id.get(payment_id)
            if key is None or key != attempt_key:
                raise GatewayRequestRejected(f"no payment {payment_id} for attempt {attempt_key}")
            req, payment = self._by_key[key]
            if payment.status is PaymentStatus.CREATED:
                payment = self._decide(req, payment)
                self._by_key[key] = (req, payment)
            return payment

    def find_payment(
        self, attempt_key: str, *, customer_id: str, payment_id: str | None = None
    ) -> GatewayPayment | None:
        self._call("find")
        with self._lock:
            if payment_id is not None and self._by_id.get(payment_id) != attempt_key:
                raise GatewayRequestRejected(f"no payment {payment_id} for attempt {attempt_key}")
            entry = self._by_key.get(attempt_key)
            return None if entry is None else entry[1]

    # --- for tests and the demo -----------------------------------------------------------

    def successful_charges(self) -> Counter[str]:
        """Attempt keys -> number of successful charges (1 each, by construction)."""
        with self._lock:
            return Counter(key for key, (_, p) in self._by_key.items() if p.succeeded)

    def charged_cents(self) -> int:
        with self._lock:
            return sum(p.amount_cents for _, p in self._by_key.values() if p.succeeded)

    def _decide(self, req: ChargeRequest, payment: GatewayPayment) -> GatewayPayment:
        decline = _decline_for(req)
        if decline is None:
            return replace(payment, status=PaymentStatus.SUCCEEDED, gateway_status="succeeded")
        return replace(
            payment,
            status=PaymentStatus.DECLINED,
            gateway_status="requires_payment_method",
            decline_code=decline.code,
            decline_message=decline.message,
        )

    def _call(self, what: str) -> None:
        with self._lock:
            self.calls[what] += 1
        if self._latency_s > 0:
            time.sleep(self._latency_s)


def _decline_for(req: ChargeRequest) -> _Decline | None:
    method = req.payment_method_id.lower()
    if "decline_once" in method:
        return CARD_DECLINED if req.attempt_key.endswith("_1") else None
    if "decline" in method:
        return CARD_DECLINED
    if "auth" in method:
        return AUTH_REQUIRED
    return None
