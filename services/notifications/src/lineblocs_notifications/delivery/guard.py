"""What stands between the workers and a provider: a rate limit and a circuit breaker.

- **Rate limit** (`SMTP_RATE_LIMIT`, `MAILGUN_RATE_LIMIT`, e.g. `10/second`; `limits`' moving
  window, per worker process): a send over the limit waits for the window, up to
  RATE_WAIT_S, then is retried later like any transient failure.
- **Circuit breaker** (`pybreaker`, per worker process and provider): after
  MAIL_BREAKER_FAILURES transient failures in a row the provider is left alone for
  MAIL_BREAKER_RESET_S — sends fail at once as transient (the messages back off) instead of
  piling timeouts on a provider that is down — then one trial send decides. Only transient
  failures count: a refused address or bad credentials say nothing about the provider's health.
  Its state is the metric `lbj_mail_circuit_state`.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import pybreaker
from limits import RateLimitItem, parse, storage, strategies

from lineblocs_notifications import metrics
from lineblocs_notifications.delivery.email import OutgoingEmail
from lineblocs_notifications.delivery.transport import DeliveryUnavailable, Transport

log = logging.getLogger(__name__)
RATE_WAIT_S = 10.0


class _StateToMetric(pybreaker.CircuitBreakerListener):
    def __init__(self, provider: str) -> None:
        self._provider = provider

    def state_change(self, cb: pybreaker.CircuitBreaker, old: Any, new: Any) -> None:
        metrics.set_circuit_state(self._provider, new.name)
        level = logging.WARNING if new.name == pybreaker.STATE_OPEN else logging.INFO
        log.log(level, "mail provider %s: circuit %s -> %s", self._provider, old.name, new.name)


class GuardedTransport:
    """A transport behind a rate limit and a circuit breaker, timed."""

    def __init__(
        self,
        transport: Transport,
        *,
        rate: str = "",
        failures: int = 5,
        reset_s: float = 60.0,
    ) -> None:
        self.name = transport.name
        self._transport = transport
        self._rate: RateLimitItem | None = parse(rate) if rate else None
        self._limiter = strategies.MovingWindowRateLimiter(storage.MemoryStorage())
        self._breaker = pybreaker.CircuitBreaker(
            fail_max=failures,
            reset_timeout=reset_s,
            exclude=[lambda exc: not isinstance(exc, DeliveryUnavailable)],
            listeners=[_StateToMetric(transport.name)],
            name=transport.name,
            throw_new_error_on_trip=False,  # the failure that trips it keeps its own message
        )
        metrics.set_circuit_state(self.name, pybreaker.STATE_CLOSED)

    def send(self, email: OutgoingEmail) -> str:
        self._wait_for_rate()
        started = time.perf_counter()
        result = "error"
        try:
            provider_id: str = self._breaker.call(self._transport.send, email)
            result = "accepted"
            return provider_id
        except pybreaker.CircuitBreakerError:
            result = "circuit_open"
            raise DeliveryUnavailable(
                f"{self.name}: too many failures in a row; not trying for a while"
            ) from None
        finally:
            metrics.observe_send(self.name, result, time.perf_counter() - started)

    def close(self) -> None:
        self._transport.close()

    @property
    def circuit_state(self) -> str:
        return str(self._breaker.current_state)

    def _wait_for_rate(self) -> None:
        if self._rate is None:
            return
        deadline = time.monotonic() + RATE_WAIT_S
        while not self._limiter.hit(self._rate, self.name):
            reset_at = self._limiter.get_window_stats(self._rate, self.name).reset_time
            pause = max(0.001, reset_at - time.time())
            if time.monotonic() + pause > deadline:
                raise DeliveryUnavailable(f"{self.name}: over its rate limit {self._rate}")
            time.sleep(pause)
