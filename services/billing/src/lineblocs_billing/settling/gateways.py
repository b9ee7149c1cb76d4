"""Which payment gateway a settling run talks to.

The real provider builds the gateway per run from that run's Lineblocs settings (an admin's
change of gateway or keys is seen by the next run), as `lineblocs_shared.payments` asks. The
fake gateway keeps its payments in memory, so it is built once per process: a redelivered
attempt must find the payment its first delivery created. Tests and the demo hand in one
gateway of their choosing (`FixedGateway`).
"""

from __future__ import annotations

import threading
from typing import Protocol

from lineblocs_shared.payments import (
    FakeGateway,
    GatewaySettings,
    PaymentGateway,
    PaymentSettings,
    gateway_for,
)


class GatewayProvider(Protocol):
    def for_run(self, lineblocs: GatewaySettings) -> PaymentGateway:
        """The gateway to charge with now; ConfigError (fatal) when misconfigured."""
        ...


class SettingsGateways:
    """Lineblocs' `payment_gateway` (or PAYMENT_GATEWAY_OVERRIDE), keys and currency."""

    def __init__(self, payments: PaymentSettings) -> None:
        self._payments = payments
        self._lock = threading.Lock()
        self._fake: FakeGateway | None = None

    def for_run(self, lineblocs: GatewaySettings) -> PaymentGateway:
        gateway = gateway_for(lineblocs, self._payments)
        if not isinstance(gateway, FakeGateway):
            return gateway
        with self._lock:
            if self._fake is None or self._fake.currency != gateway.currency:
                self._fake = gateway
            return self._fake


class FixedGateway:
    """Always the same gateway (tests, the demo)."""

    def __init__(self, gateway: PaymentGateway) -> None:
        self.gateway = gateway

    def for_run(self, lineblocs: GatewaySettings) -> PaymentGateway:
        return self.gateway
