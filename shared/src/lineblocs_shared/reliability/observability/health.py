"""Readiness checks: the database answers with our tables migrated, RabbitMQ answers, the
service's queues exist.

The same checks back `lineblocs-jobs health` and a worker's `GET /readyz`. A check never
raises: whatever goes wrong becomes a failing `CheckResult` with a one-line reason.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import pika
from dramatiq.common import dq_name, xq_name
from sqlalchemy import Engine

from lineblocs_shared.db import ping
from lineblocs_shared.db.revision import require_current
from lineblocs_shared.errors import SchemaError

AMQP_TIMEOUT_S = 3.0


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class ReadinessReport:
    results: tuple[CheckResult, ...]

    @property
    def ok(self) -> bool:
        return all(result.ok for result in self.results)

    @property
    def failures(self) -> tuple[CheckResult, ...]:
        return tuple(result for result in self.results if not result.ok)

    def as_json(self) -> dict[str, object]:
        return {
            "status": "ready" if self.ok else "not ready",
            "checks": {r.name: {"ok": r.ok, "detail": r.detail} for r in self.results},
        }


class Check(Protocol):
    """One dependency probe; may report several results (the broker and its queues)."""

    def run(self) -> Sequence[CheckResult]: ...


class DatabaseCheck:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def run(self) -> Sequence[CheckResult]:
        ping(self._engine)  # DatabaseUnavailable carries a one-line reason
        try:
            migrations = CheckResult("migrations", True, require_current(self._engine))
        except SchemaError as exc:
            migrations = CheckResult("migrations", False, str(exc))
        return [CheckResult("database", True, "answers"), migrations]


def expected_queues(queues: Iterable[str]) -> list[str]:
    """Each queue with the `.DQ` (delays, retries) and `.XQ` (dead letters) Dramatiq adds."""
    return [name for queue in queues for name in (queue, dq_name(queue), xq_name(queue))]


class RabbitmqCheck:
    """Connects once with short timeouts; passively declares each expected queue."""

    def __init__(self, url: str, queues: Iterable[str] = (), timeout_s: float = AMQP_TIMEOUT_S):
        self._url = url
        self._queues = expected_queues(queues)
        self._timeout_s = timeout_s

    def run(self) -> Sequence[CheckResult]:
        params = pika.URLParameters(self._url)
        params.connection_attempts = 1
        params.retry_delay = 0
        params.socket_timeout = self._timeout_s
        params.stack_timeout = self._timeout_s
        params.blocked_connection_timeout = self._timeout_s
        where = f"{params.host}:{params.port} vhost {params.virtual_host!r}"
        try:
            connection = pika.BlockingConnection(params)
        except pika.exceptions.AMQPError as exc:
            results = [CheckResult("broker", False, f"RabbitMQ unreachable at {where}: {exc!r}")]
            if self._queues:
                results.append(CheckResult("queues", False, "not checked: RabbitMQ unreachable"))
            return results
        try:
            missing = self._missing_queues(connection)
        finally:
            connection.close()
        results = [CheckResult("broker", True, f"connected to {where}")]
        if self._queues:
            results.append(_queues_result(self._queues, missing))
        return results

    def _missing_queues(self, connection: pika.BlockingConnection) -> list[str]:
        missing: list[str] = []
        channel = connection.channel()
        for queue in self._queues:
            try:
                channel.queue_declare(queue, passive=True)
            except pika.exceptions.ChannelClosedByBroker as exc:
                if exc.reply_code != 404:
                    raise
                missing.append(queue)
                channel = connection.channel()  # the broker closes a channel on a 404
        return missing


def _queues_result(expected: list[str], missing: list[str]) -> CheckResult:
    if not missing:
        return CheckResult("queues", True, f"present: {', '.join(expected)}")
    hint = " (a worker declares them when it starts consuming)"
    return CheckResult("queues", False, f"missing: {', '.join(missing)}{hint}")


class EmbeddedBrokerCheck:
    """The in-process broker of the embedded mode is always there."""

    def run(self) -> Sequence[CheckResult]:
        return [CheckResult("broker", True, "in-process broker (embedded mode)")]


def run_checks(checks: Iterable[tuple[str, Check]]) -> ReadinessReport:
    """Run each named check; a check that raises fails under its name with the error's text."""
    results: list[CheckResult] = []
    for name, check in checks:
        try:
            results.extend(check.run())
        except Exception as exc:
            detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            results.append(CheckResult(name, False, detail))
    return ReadinessReport(tuple(results))


class CachedReadiness:
    """Runs the checks at most once per `ttl_s`: frequent probes must not hammer the database."""

    def __init__(
        self,
        checks: Sequence[tuple[str, Check]],
        *,
        ttl_s: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._checks = checks
        self._ttl_s = ttl_s
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._report: ReadinessReport | None = None
        self._at = 0.0

    def report(self) -> ReadinessReport:
        # One prober runs the checks; concurrent probers wait and share its report.
        with self._lock:
            now = self._monotonic()
            if self._report is None or now - self._at >= self._ttl_s:
                self._report = run_checks(self._checks)
                self._at = self._monotonic()
            return self._report
