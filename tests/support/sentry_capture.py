"""A local stand-in for Sentry's ingestion endpoint, for tests that use the real sentry-sdk.

It accepts envelope POSTs at /api/<project>/envelope/ (gzip or plain), splits each envelope into
its items and keeps the `event` payloads. DSN: `http://public@127.0.0.1:<port>/1`.
"""

from __future__ import annotations

import gzip
import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import sentry_sdk

from lineblocs_shared.reliability.observability.sentry import init_sentry
from lineblocs_shared.settings import Settings

ENVELOPE_PATH = re.compile(r"^/api/(?P<project>\d+)/envelope/?$")


def parse_envelope(body: bytes) -> list[tuple[dict[str, Any], bytes]]:
    """The (item header, payload) pairs of a Sentry envelope (header line first)."""
    _envelope_header, _, rest = body.partition(b"\n")
    items: list[tuple[dict[str, Any], bytes]] = []
    while rest.strip():
        header_line, _, rest = rest.partition(b"\n")
        header = json.loads(header_line)
        length = header.get("length")
        if length is None:  # payload runs to the end of the line
            payload, _, rest = rest.partition(b"\n")
        else:
            payload, rest = rest[:length], rest[length:].removeprefix(b"\n")
        items.append((header, payload))
    return items


class SentryCapture:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.rejected: list[str] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def dsn(self) -> str:
        return f"http://public@127.0.0.1:{self._server.server_address[1]}/1"

    def start(self) -> SentryCapture:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def clear(self) -> None:
        with self._lock:
            self.events.clear()

    def wait_for_events(self, count: int, *, timeout_s: float = 10) -> list[dict[str, Any]]:
        """At least `count` events (returns what arrived when the time is up)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.events) >= count:
                    return list(self.events)
            time.sleep(0.05)
        with self._lock:
            return list(self.events)

    def _receive(self, path: str, encoding: str | None, body: bytes) -> bool:
        if ENVELOPE_PATH.match(path) is None:
            self.rejected.append(f"unexpected path {path}")
            return False
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding not in (None, "", "identity"):
            self.rejected.append(f"unsupported encoding {encoding}")
            return False
        with self._lock:
            for header, payload in parse_envelope(body):
                if header.get("type") == "event":
                    self.events.append(json.loads(payload))
        return True

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        capture = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                ok = capture._receive(self.path, self.headers.get("Content-Encoding"), body)
                self.send_response(200 if ok else 400)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output quiet

        return Handler


@contextmanager
def capturing_sentry(**settings: Any) -> Iterator[SentryCapture]:
    """The real sentry-sdk, set up by `init_sentry`, sending to a fresh local capture server."""
    capture = SentryCapture().start()
    try:
        assert init_sentry(Settings(sentry_dsn=capture.dsn, **settings))
        yield capture
    finally:
        sentry_sdk.flush(timeout=5)
        sentry_sdk.get_client().close()
        capture.stop()
