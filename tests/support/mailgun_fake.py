"""A local fake of Mailgun's sending API over real HTTP: `POST /v3/<domain>/messages.mime`.

It checks basic auth (`api:<key>`), reads the multipart form (`to`, and the `message` file),
keeps each accepted MIME message, and answers as Mailgun does: 200 `{"id", "message"}`, 401 for
a wrong key, 404 for an unknown domain, 400 for a refused address, 5xx for a while on demand.
"""

from __future__ import annotations

import base64
import email
import email.policy
import threading
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

from aiohttp import web

from tests.support.aiohttp_thread import AppThread

DOMAIN, KEY = "mg.example.test", "key-test-123"


@dataclass
class Behaviour:
    failing_for: int = 0  # answer 503 to this many requests first
    accept_only: int | None = None  # accept this many mails, then answer 503 to everything
    refuse: set[str] = field(default_factory=set)  # 400 for these addresses


class MailgunFake:
    """aiohttp on its own loop and thread: its form parser reads multipart bodies as a real
    web server would, whatever content type the client gives the file part."""

    def __init__(self) -> None:
        self.behaviour = Behaviour()
        self.received: list[tuple[str, Message]] = []  # (to, the MIME message)
        self.requests = 0
        self._lock = threading.Lock()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/{tail:.*}", self._post)
        self._server = AppThread(app)

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self._server.port}"

    def start(self) -> MailgunFake:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    async def _post(self, request: web.Request) -> web.Response:
        form = await request.post()
        status, answer = self._answer(request.path, request.headers.get("Authorization", ""), form)
        return web.json_response(answer, status=status)

    def _answer(self, path: str, auth: str, form: Any) -> tuple[int, Any]:
        with self._lock:
            self.requests += 1
            if auth != "Basic " + base64.b64encode(f"api:{KEY}".encode()).decode():
                return 401, {"message": "Invalid private key"}
            if path != f"/v3/{DOMAIN}/messages.mime":
                return 404, {"message": "Domain not found"}
            limit = self.behaviour.accept_only
            if limit is not None and len(self.received) >= limit:
                return 503, {"message": "Service Unavailable"}
            if self.behaviour.failing_for > 0:
                self.behaviour.failing_for -= 1
                return 503, {"message": "Service Unavailable"}
            to, upload = str(form.get("to", "")), form.get("message")
            if not to or not isinstance(upload, web.FileField):
                return 400, {"message": "'to' and 'message' are required"}
            if to in self.behaviour.refuse:
                return 400, {"message": "to parameter is not a valid address. please check"}
            raw = upload.file.read()
            self.received.append((to, email.message_from_bytes(raw, policy=email.policy.default)))
            return 200, {"id": f"<{len(self.received)}.fake@{DOMAIN}>", "message": "Queued."}
