"""The endpoint behind UNSUBSCRIBE_URL: one-click unsubscribes of unsolicited mails.

`POST <url>?u=<user>&k=<kind>&t=<token>` — what a mail client sends for RFC 8058's one-click
button (body `List-Unsubscribe=One-Click`), and what the confirmation page's button sends —
records the opt-out (`optouts.py`) and answers 200, however many times it is clicked. `GET`
shows that page and changes nothing: link scanners and previews fetch links without a person.
A link whose token does not match its user and kind gets 403 and changes nothing.
"""

from __future__ import annotations

import html
import logging
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from lineblocs_notifications.bootstrap import Notifications
from lineblocs_notifications.compose.unsubscribe import is_genuine
from lineblocs_notifications.kinds.catalog import KINDS

log = logging.getLogger(__name__)
MAX_BODY = 4096  # a one-click body is 26 bytes


@dataclass(frozen=True)
class Page:
    status: int
    body: str


def answer(deps: Notifications, *, method: str, target: str) -> Page:
    query = {k: v[-1] for k, v in parse_qs(urlsplit(target).query).items()}
    kind = query.get("k", "")
    try:
        user_id = int(query.get("u", ""))
    except ValueError:
        return Page(400, "This unsubscribe link is incomplete.")
    if kind not in KINDS or not KINDS[kind].unsolicited:
        return Page(400, "This unsubscribe link is incomplete.")
    secret = deps.options.unsubscribe_secret.get_secret_value()
    if not is_genuine(secret, user_id, kind, query.get("t", "")):
        return Page(403, "This unsubscribe link is not valid.")
    if method == "GET":
        return Page(200, _confirmation(target))
    first = deps.optouts.record(user_id, kind, via="one-click", at=deps.clock.now())
    if first:
        log.info("user %s unsubscribed from %s", user_id, kind)
    return Page(200, f"You will receive no more {html.escape(kind.replace('_', ' '))} e-mails.")


def _confirmation(target: str) -> str:
    return (
        '<form method="post" action="' + html.escape(target, quote=True) + '">'
        '<input type="hidden" name="List-Unsubscribe" value="One-Click">'
        "<p>Unsubscribe from these e-mails?</p>"
        '<button type="submit">Unsubscribe</button></form>'
    )


class UnsubscribeServer:
    """A small threaded HTTP server answering every path with `answer`."""

    def __init__(self, deps: Notifications, *, host: str, port: int) -> None:
        self._deps = deps
        self._server = ThreadingHTTPServer((host, port), self._handler_class())
        self._server.daemon_threads = True

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def start(self) -> UnsubscribeServer:
        threading.Thread(target=self.serve_forever, name="unsubscribe", daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        deps = self._deps

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._reply(answer(deps, method="GET", target=self.path))

            def do_POST(self) -> None:
                length = min(int(self.headers.get("Content-Length") or 0), MAX_BODY)
                self.rfile.read(length)  # the body says one-click; the link says who and what
                self._reply(answer(deps, method="POST", target=self.path))

            def _reply(self, page: Page) -> None:
                body = f"<!DOCTYPE html><html><body>{page.body}</body></html>".encode()
                self.send_response(page.status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass  # the query holds tokens: not for the logs

        return Handler
