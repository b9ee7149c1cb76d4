"""A thin HTTP layer of ours in front of localstripe: Stripe's idempotency, API keys, faults.

localstripe ignores `Idempotency-Key`, accepts any `sk_…` key and never fails on its own. This
proxy adds what the tests need from the real Stripe:
- **Idempotency** (POST): the same key, path and parameters replay the stored answer (header
  `Idempotent-Replayed: true`); the same key with other parameters is a 400
  `idempotency_error`; a key whose first request is still running is a 409. Answers to requests
  that failed validation (400) are not stored, as at Stripe. `honor_idempotency=False` makes the
  proxy ignore keys, like a gateway that has none.
- **API keys**: a key not in `api_keys` is a 401, as at Stripe.
- **Faults**, injected by the test for the next matching requests: `LOST_RESPONSE` forwards the
  request then closes the connection without answering; `HTTP_500` / `HTTP_429` answer at once
  without forwarding (Stripe did not run the request; nothing is stored for the key);
  `SLOW_RESPONSE` forwards, then holds the answer `delay_s` (time to kill the client between
  the charge and its commit). `inject` returns an event set when the fault happens.
- **What localstripe lacks**: parameters Stripe accepts and localstripe rejects are removed
  before forwarding (`off_session` at confirmation, `description` at creation), and listing
  PaymentIntents by `customer` is answered here, newest first, from localstripe's full list.
- **Ground truth**: `succeeded_intents()` reads localstripe itself, so "exactly one successful
  charge at the gateway server" is counted where the money would be, not from our requests.
"""

from __future__ import annotations

import base64
import http.client
import json
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from tests.support.localstripe_server import TEST_SECRET_KEY

# Parameters real Stripe accepts that localstripe answers with 400 "Unexpected …".
UNSUPPORTED_BY_LOCALSTRIPE: dict[str, frozenset[str]] = {
    r"^/v1/payment_intents$": frozenset({"description"}),
    r"^/v1/payment_intents/[^/]+/confirm$": frozenset({"off_session"}),
}
INTENTS_LIST = "/v1/payment_intents"


class Fault(StrEnum):
    LOST_RESPONSE = "lost_response"
    SLOW_RESPONSE = "slow_response"  # do the work, then wait `delay_s` before answering
    HTTP_500 = "http_500"
    HTTP_429 = "http_429"


@dataclass
class _Rule:
    fault: Fault
    method: str
    path: re.Pattern[str]
    remaining: int
    delay_s: float
    hit: threading.Event


@dataclass(frozen=True)
class Seen:
    """One request the proxy received, and what it did with it."""

    method: str
    path: str
    idempotency_key: str | None
    outcome: str  # forwarded | replayed | lost_response | http_500 | http_429 | refused


@dataclass
class _Stored:
    fingerprint: tuple[str, str, tuple[tuple[str, str], ...]]
    status: int | None = None  # None while the first request runs
    body: bytes = b""


@dataclass
class _State:
    rules: list[_Rule] = field(default_factory=list)
    stored: dict[tuple[str, str], _Stored] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)


class StripeProxy:
    def __init__(
        self,
        upstream: str,
        *,
        api_keys: frozenset[str] = frozenset({TEST_SECRET_KEY}),
        honor_idempotency: bool = True,
    ) -> None:
        target = urlsplit(upstream)
        self._upstream = (target.hostname or "127.0.0.1", target.port or 80)
        self.api_keys = api_keys
        self.honor_idempotency = honor_idempotency
        self._lock = threading.Lock()
        self._state = _State()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.proxy = self  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --- test controls ----------------------------------------------------------------------

    def inject(
        self,
        fault: Fault,
        *,
        path: str,
        method: str = "POST",
        times: int = 1,
        delay_s: float = 2.0,
    ) -> threading.Event:
        """Apply `fault` to the next `times` requests whose path matches the regex `path`.
        The event returned is set each time the fault happens — for a lost or slow response,
        once the work is done: a test can kill its client between the call and the answer."""
        hit = threading.Event()
        with self._lock:
            self._state.rules.append(_Rule(fault, method, re.compile(path), times, delay_s, hit))
        return hit

    def seen(self) -> list[Seen]:
        with self._lock:
            return list(self._state.seen)

    def succeeded_intents(self) -> list[dict[str, Any]]:
        """Every PaymentIntent localstripe holds with status `succeeded` (money taken)."""
        return [i for i in self._upstream_intents() if i["status"] == "succeeded"]

    def successful_charges_by(self, metadata_key: str = "attempt_key") -> Counter[str]:
        return Counter(str(i["metadata"].get(metadata_key)) for i in self.succeeded_intents())

    def intents_of(self, customer_id: str) -> list[dict[str, Any]]:
        return [i for i in self._upstream_intents() if i["customer"] == customer_id]

    # --- the request path -------------------------------------------------------------------

    def handle(self, request: _Handler) -> None:
        method, target = request.command, urlsplit(request.path)
        body = request.read_body()
        key = request.headers.get("Idempotency-Key")
        api_key = _api_key(request.headers.get("Authorization", ""))
        if api_key not in self.api_keys:
            self._note(method, target.path, key, "refused")
            request.answer(401, _error("invalid_request_error", "Invalid API Key provided"))
            return
        rule = self._fault_for(method, target.path)
        if rule is not None and rule.fault in (Fault.HTTP_500, Fault.HTTP_429):
            self._note(method, target.path, key, rule.fault.value)
            rule.hit.set()
            status = 500 if rule.fault is Fault.HTTP_500 else 429
            request.answer(status, _error("api_error", f"injected {status}"))
            return
        if method == "GET" and target.path == INTENTS_LIST and "customer" in target.query:
            self._note(method, target.path, key, "forwarded")
            request.answer(200, self._list_by_customer(dict(parse_qsl(target.query))))
            return
        scope = (api_key, key) if key and method == "POST" and self.honor_idempotency else None
        status, answer, outcome = self._run(request, method, target.path, target.query, body, scope)
        if rule is not None:
            self._note(method, target.path, key, rule.fault.value)
            rule.hit.set()
            if rule.fault is Fault.LOST_RESPONSE:
                request.close_connection = True  # the client waits, then sees the line drop
                return
            time.sleep(rule.delay_s)
        else:
            self._note(method, target.path, key, outcome)
        request.answer(status, answer, replayed=outcome == "replayed")

    def _run(
        self,
        request: _Handler,
        method: str,
        path: str,
        query: str,
        body: bytes,
        scope: tuple[str, str] | None,
    ) -> tuple[int, bytes, str]:
        if scope is None:
            return (*self._forward(request, method, path, query, body), "forwarded")
        fingerprint = (method, path, tuple(sorted(_params(body))))
        with self._lock:
            stored = self._state.stored.get(scope)
            if stored is None:
                stored = self._state.stored[scope] = _Stored(fingerprint)
            elif stored.fingerprint != fingerprint:
                return 400, _idempotency_error("with other parameters"), "refused"
            elif stored.status is None:
                return 409, _idempotency_error("while its first request runs"), "refused"
            else:
                return stored.status, stored.body, "replayed"
        status, answer = self._forward(request, method, path, query, body)
        with self._lock:
            if status == 400:  # Stripe keeps no result for a request that failed validation
                del self._state.stored[scope]
            else:
                stored.status, stored.body = status, answer
        return status, answer, "forwarded"

    def _forward(
        self, request: _Handler, method: str, path: str, query: str, body: bytes
    ) -> tuple[int, bytes]:
        body = _without_unsupported(path, body)
        headers = {
            name: request.headers[name]
            for name in ("Authorization", "Content-Type", "Stripe-Version")
            if name in request.headers
        }
        connection = http.client.HTTPConnection(*self._upstream, timeout=30)
        try:
            connection.request(method, f"{path}?{query}" if query else path, body, headers)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def _list_by_customer(self, query: dict[str, str]) -> bytes:
        intents = [i for i in self._upstream_intents() if i["customer"] == query["customer"]]
        intents.reverse()  # newest first, as Stripe lists
        if "starting_after" in query:
            ids = [i["id"] for i in intents]
            intents = intents[ids.index(query["starting_after"]) + 1 :]
        limit = int(query.get("limit", 10))
        page = {
            "object": "list",
            "url": INTENTS_LIST,
            "has_more": len(intents) > limit,
            "data": intents[:limit],
        }
        return json.dumps(page).encode()

    def _upstream_intents(self) -> list[dict[str, Any]]:
        """All intents in creation order, read page by page straight from localstripe."""
        intents: list[dict[str, Any]] = []
        auth = "Basic " + base64.b64encode(f"{TEST_SECRET_KEY}:".encode()).decode()
        while True:
            query = {"limit": "100"}
            if intents:
                query["starting_after"] = intents[-1]["id"]
            connection = http.client.HTTPConnection(*self._upstream, timeout=30)
            try:
                connection.request(
                    "GET", f"{INTENTS_LIST}?{urlencode(query)}", headers={"Authorization": auth}
                )
                page = json.loads(connection.getresponse().read())
            finally:
                connection.close()
            intents += page["data"]
            if not page["has_more"]:
                return intents

    def _fault_for(self, method: str, path: str) -> _Rule | None:
        with self._lock:
            for rule in self._state.rules:
                if rule.remaining > 0 and rule.method == method and rule.path.search(path):
                    rule.remaining -= 1
                    return rule
        return None

    def _note(self, method: str, path: str, key: str | None, outcome: str) -> None:
        with self._lock:
            self._state.seen.append(Seen(method, path, key, outcome))


class _Handler(BaseHTTPRequestHandler):
    server: ThreadingHTTPServer

    def do_GET(self) -> None:
        self.server.proxy.handle(self)  # type: ignore[attr-defined]

    do_POST = do_GET
    do_DELETE = do_GET

    def read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def answer(self, status: int, body: bytes, *, replayed: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Request-Id", "req_proxy")
        if replayed:
            self.send_header("Idempotent-Replayed", "true")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: tests read `StripeProxy.seen()` instead


def _api_key(authorization: str) -> str:
    scheme, _, value = authorization.partition(" ")
    if scheme == "Bearer":
        return value
    if scheme == "Basic":
        return base64.b64decode(value).decode().partition(":")[0]
    return ""


def _without_unsupported(path: str, body: bytes) -> bytes:
    for pattern, names in UNSUPPORTED_BY_LOCALSTRIPE.items():
        if re.search(pattern, path):
            pairs = [(k, v) for k, v in _params(body) if k not in names]
            return urlencode(pairs).encode()
    return body


def _params(body: bytes) -> list[tuple[str, str]]:
    return parse_qsl(body.decode(), keep_blank_values=True)


def _error(kind: str, message: str) -> bytes:
    return json.dumps({"error": {"type": kind, "message": message}}).encode()


def _idempotency_error(why: str) -> bytes:
    return _error("idempotency_error", f"Keys for idempotent requests cannot be reused {why}.")
