"""A local fake of Asterisk's ARI stored-recordings API over real HTTP (aiohttp).

- `GET /ari/recordings/stored/{name}/file`: 200 `audio/wav`, the body streamed in chunks (a
  recording given by size is generated chunk by chunk, never whole in memory); 404 unknown;
- `DELETE /ari/recordings/stored/{name}`: 204, or 404 when there is none;
- basic auth (`asterisk:secret`): 401 without credentials, 403 with wrong ones;
- per name, scripted: answer 500 to the first N requests, wait before answering, or call a hook
  (a test holds a worker at a chosen point). Every request is recorded.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from aiohttp import web

from tests.support.aiohttp_thread import AppThread

USER, PASSWORD = "asterisk", "secret"
CHUNK = 256 * 1024


@dataclass
class StoredFile:
    body: bytes = b""
    size: int | None = None  # generated: `size` bytes of a repeating pattern

    def chunks(self) -> Iterator[bytes]:
        if self.size is None:
            yield from (self.body[i : i + CHUNK] for i in range(0, len(self.body), CHUNK))
            return
        block = bytes(range(256)) * (CHUNK // 256)
        left = self.size
        while left > 0:
            yield block[: min(left, CHUNK)]
            left -= CHUNK

    def sha256(self) -> str:
        digest = hashlib.sha256()
        for chunk in self.chunks():
            digest.update(chunk)
        return digest.hexdigest()

    def length(self) -> int:
        return self.size if self.size is not None else len(self.body)


@dataclass
class Script:
    fail_first: int = 0  # answer 500 to this many downloads first
    fail_deletes: int = 0  # answer 500 to this many deletes first
    delay_s: float = 0.0  # wait before answering a download
    on_download: Callable[[], None] | None = None  # called (in the server's thread) on a GET
    on_delete: Callable[[], None] | None = None  # called before answering a DELETE


@dataclass
class AriFake:
    files: dict[str, StoredFile] = field(default_factory=dict)
    scripts: dict[str, Script] = field(default_factory=dict)
    requests: list[tuple[str, str, int]] = field(default_factory=list)  # method, name, status

    def __post_init__(self) -> None:
        app = web.Application()
        app.router.add_get("/ari/recordings/stored/{name}/file", self._download)
        app.router.add_delete("/ari/recordings/stored/{name}", self._delete)
        self._server = AppThread(app)

    @property
    def url_template(self) -> str:
        return f"http://{{host}}:{self._server.port}/ari"

    def add(self, name: str, body: bytes = b"", *, size: int | None = None) -> StoredFile:
        self.files[name] = StoredFile(body, size)
        return self.files[name]

    def calls(self, method: str, name: str) -> list[int]:
        return [status for m, n, status in self.requests if (m, n) == (method, name)]

    def start(self) -> AriFake:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def _refused(self, request: web.Request) -> int | None:
        auth = request.headers.get("Authorization")
        if auth is None:
            return 401
        good = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        return None if auth == good else 403

    async def _download(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        script = self.scripts.get(name, Script())
        status = self._refused(request) or (404 if name not in self.files else None)
        if status is None and script.fail_first > 0:
            script.fail_first -= 1
            status = 500
        if script.on_download is not None:
            await asyncio.get_running_loop().run_in_executor(None, script.on_download)
        if script.delay_s:
            await asyncio.sleep(script.delay_s)
        self.requests.append(("GET", name, status or 200))
        if status is not None:
            return web.json_response({"message": "no"}, status=status)
        stored = self.files[name]
        response = web.StreamResponse(headers={"Content-Type": "audio/wav"})
        response.content_length = stored.length()
        await response.prepare(request)
        for chunk in stored.chunks():
            await response.write(chunk)
        await response.write_eof()
        return response

    async def _delete(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        script = self.scripts.get(name, Script())
        if script.on_delete is not None:
            await asyncio.get_running_loop().run_in_executor(None, script.on_delete)
        status = self._refused(request)
        if status is None and script.fail_deletes > 0:
            script.fail_deletes -= 1
            status = 500
        if status is None:
            status = 204 if self.files.pop(name, None) else 404
        self.requests.append(("DELETE", name, status))
        if status == 204:
            return web.Response(status=204)
        return web.json_response({"message": "no"}, status=status)


def relocation_env(ari: AriFake, s3_endpoint_url: str, host: str) -> dict[str, str]:
    """A maintenance worker's settings to relocate from `ari` (media server `host`) to S3."""
    return {
        "ARI_URL_TEMPLATE": ari.url_template,
        "ARI_HOSTS": host,
        "ARI_USERNAME": USER,
        "ARI_PASSWORD": PASSWORD,
        "S3_ENDPOINT_URL": s3_endpoint_url,
        "RECORDING_STORAGE_OVERRIDE": "s3",
    }
