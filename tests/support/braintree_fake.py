"""A small Braintree gateway of ours, speaking the SDK's XML protocol for the calls we make.

No maintained Braintree fake exists. This one answers, under `/merchants/<id>/`:
  POST transactions                               sale (authorize; settle if asked)
  PUT  transactions/<id>/submit_for_settlement    settle an authorization
  PUT  transactions/<id>/void                     void it
  GET  transactions/<id>                          find
  POST transactions/advanced_search_ids           search: order_id is X (ids in list)
  POST transactions/advanced_search               the transactions of those ids
with Basic auth on the public/private key pair (401 otherwise) and 404 for another merchant.
Requests are read with ElementTree, answers written the way Braintree writes them (dashed tags,
`type="integer"|"boolean"|"datetime"|"array"`), so the SDK's own parser is what is exercised.

Payment-method tokens are registered by the test with a behaviour (approve, processor decline
2000 "Do Not Honor", gateway rejection "fraud"); an unknown token is a validation error (91518).
Faults: `LOST_RESPONSE` (do the work, then drop the connection), `SLOW_RESPONSE` (do the work,
answer `delay_s` later), `HTTP_500`, `HTTP_429` (answer at once, do nothing); `inject` returns
an event set when the fault happens. `settled_by_order()` counts the transactions submitted for
settlement per order id: the charges that take money.
"""

from __future__ import annotations

import base64
import itertools
import re
import threading
import time
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.support import braintree_xml as bt_xml

MERCHANT_ID = bt_xml.MERCHANT_ID
PUBLIC_KEY = "lbj_public_key"
PRIVATE_KEY = "lbj_private_key"
SETTLING = frozenset({"submitted_for_settlement", "settling", "settled"})


class Behaviour(StrEnum):
    APPROVE = "approve"
    PROCESSOR_DECLINE = "processor_decline"
    GATEWAY_REJECT = "gateway_reject"


class Fault(StrEnum):
    LOST_RESPONSE = "lost_response"
    SLOW_RESPONSE = "slow_response"  # do the work, then wait `delay_s` before answering
    HTTP_500 = "http_500"
    HTTP_429 = "http_429"


@dataclass
class Transaction:
    id: str
    order_id: str
    amount: Decimal
    customer_id: str
    token: str
    status: str
    currency: str
    created_at: datetime
    processor_code: str = "1000"
    processor_text: str = "Approved"
    rejection_reason: str | None = None


@dataclass
class _Rule:
    fault: Fault
    method: str
    path: re.Pattern[str]
    remaining: int
    delay_s: float
    hit: threading.Event


@dataclass
class _State:
    tokens: dict[str, tuple[str, Behaviour]] = field(default_factory=dict)
    transactions: dict[str, Transaction] = field(default_factory=dict)
    rules: list[_Rule] = field(default_factory=list)
    requests: list[tuple[str, str, str]] = field(default_factory=list)  # method, path, outcome


class BraintreeFake:
    def __init__(self, *, currency: str = "CAD") -> None:
        self.currency = currency
        self.merchant_id, self.public_key, self.private_key = MERCHANT_ID, PUBLIC_KEY, PRIVATE_KEY
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._state = _State()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.fake = self  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --- test controls ----------------------------------------------------------------------

    def add_payment_method(
        self, customer_id: str, token: str, behaviour: Behaviour = Behaviour.APPROVE
    ) -> None:
        with self._lock:
            self._state.tokens[token] = (customer_id, behaviour)

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

    def transactions(self) -> list[Transaction]:
        with self._lock:
            return list(self._state.transactions.values())

    def settled_by_order(self) -> Counter[str]:
        return Counter(t.order_id for t in self.transactions() if t.status in SETTLING)

    def requests(self) -> list[tuple[str, str, str]]:
        with self._lock:
            return list(self._state.requests)

    # --- the protocol -----------------------------------------------------------------------

    def handle(self, request: _Handler) -> None:
        body = request.read_body()
        method, path = request.command, request.path
        if not self._authorized(request.headers.get("Authorization", "")):
            return self._answer(request, method, path, 401, b"", "refused")
        prefix = f"/merchants/{self.merchant_id}/"
        if not path.startswith(prefix):
            return self._answer(request, method, path, 404, b"", "refused")
        rule = self._fault_for(method, path)
        if rule is not None and rule.fault in (Fault.HTTP_500, Fault.HTTP_429):
            rule.hit.set()
            status = 500 if rule.fault is Fault.HTTP_500 else 429
            return self._answer(request, method, path, status, b"", rule.fault.value)
        status, answer = self._route(method, path[len(prefix) :], body)
        if rule is None:
            return self._answer(request, method, path, status, answer, "answered")
        self._note(method, path, rule.fault.value)
        rule.hit.set()
        if rule.fault is Fault.LOST_RESPONSE:
            request.close_connection = True
            return None
        time.sleep(rule.delay_s)
        request.answer(status, answer)
        return None

    def _route(self, method: str, path: str, body: bytes) -> tuple[int, bytes]:
        request = ET.fromstring(body) if body else None
        parts = path.split("/")
        with self._lock:
            if method == "POST" and path == "transactions" and request is not None:
                return self._sale(request)
            if method == "POST" and path == "transactions/advanced_search_ids":
                return 200, bt_xml.search_ids(self._search(request))
            if method == "POST" and path == "transactions/advanced_search":
                return 200, bt_xml.collection(self._by_ids(request))
            if len(parts) >= 2 and parts[1] in self._state.transactions:
                transaction = self._state.transactions[parts[1]]
                if method == "GET" and len(parts) == 2:
                    return 200, bt_xml.xml(bt_xml.transaction(transaction))
                if method == "PUT" and parts[2:] == ["submit_for_settlement"]:
                    return self._move(transaction, {"authorized"}, "submitted_for_settlement")
                if method == "PUT" and parts[2:] == ["void"]:
                    return self._move(transaction, {"authorized", *SETTLING}, "voided")
            return 404, b""

    def _sale(self, request: ET.Element) -> tuple[int, bytes]:
        fields = {bt_xml.tag(child): child for child in request}
        token = bt_xml.text(fields.get("payment_method_token"))
        if token not in self._state.tokens:
            error = ("91518", "payment_method_token", "Payment method token is invalid.")
            return 422, bt_xml.validation_error(*error)
        customer_id, behaviour = self._state.tokens[token]
        options = fields.get("options")
        settle_now = None if options is None else options.find("submit_for_settlement")
        settle = bt_xml.text(settle_now) == "true"
        transaction = Transaction(
            id=f"bt{next(self._ids):06d}",
            order_id=bt_xml.text(fields.get("order_id")),
            amount=Decimal(bt_xml.text(fields.get("amount"))),
            customer_id=customer_id,
            token=token,
            status="submitted_for_settlement" if settle else "authorized",
            currency=self.currency,
            created_at=datetime.now(UTC),
        )
        self._state.transactions[transaction.id] = transaction
        if behaviour is Behaviour.APPROVE:
            return 201, bt_xml.xml(bt_xml.transaction(transaction))
        if behaviour is Behaviour.PROCESSOR_DECLINE:
            transaction.status = "processor_declined"
            transaction.processor_code, transaction.processor_text = "2000", "Do Not Honor"
        else:
            transaction.status, transaction.rejection_reason = "gateway_rejected", "fraud"
            transaction.processor_code, transaction.processor_text = "", ""
        return 422, bt_xml.declined(transaction)

    def _move(self, transaction: Transaction, allowed: set[str], to: str) -> tuple[int, bytes]:
        if transaction.status not in allowed:
            code = "91507" if to == "submitted_for_settlement" else "91504"
            message = f"Cannot {to.replace('_', ' ')} unless status is authorized."
            return 422, bt_xml.validation_error(code, "base", message)
        transaction.status = to
        return 200, bt_xml.xml(bt_xml.transaction(transaction))

    def _search(self, request: ET.Element | None) -> list[str]:
        order = None if request is None else request.find("order_id/is")
        if order is None:
            return []
        return [t.id for t in self._state.transactions.values() if t.order_id == order.text]

    def _by_ids(self, request: ET.Element | None) -> list[Transaction]:
        ids = [] if request is None else [item.text for item in request.iterfind("ids/item")]
        return [self._state.transactions[i] for i in ids if i in self._state.transactions]

    def _authorized(self, header: str) -> bool:
        scheme, _, value = header.partition(" ")
        expected = f"{self.public_key}:{self.private_key}".encode()
        return scheme == "Basic" and base64.b64decode(value or "") == expected

    def _fault_for(self, method: str, path: str) -> _Rule | None:
        with self._lock:
            for rule in self._state.rules:
                if rule.remaining > 0 and rule.method == method and rule.path.search(path):
                    rule.remaining -= 1
                    return rule
        return None

    def _note(self, method: str, path: str, outcome: str) -> None:
        with self._lock:
            self._state.requests.append((method, path, outcome))

    def _answer(
        self, request: _Handler, method: str, path: str, status: int, body: bytes, outcome: str
    ) -> None:
        self._note(method, path, outcome)
        request.answer(status, body)


class _Handler(BaseHTTPRequestHandler):
    server: ThreadingHTTPServer

    def do_GET(self) -> None:
        self.server.fake.handle(self)  # type: ignore[attr-defined]

    do_POST = do_PUT = do_GET

    def read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/xml; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass
