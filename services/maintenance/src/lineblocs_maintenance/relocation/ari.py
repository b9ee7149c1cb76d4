"""Media servers' stored recordings through ARI (Asterisk REST Interface), over httpx.

- `GET {base}/recordings/stored/{name}/file` streams the file; it is copied chunk by chunk into
  the caller's sink (a spooled temporary file), with its SHA-256 and size computed on the way:
  a recording is never whole in memory.
- `DELETE {base}/recordings/stored/{name}`: 204, or 404 when it is already gone.

`{base}` is ARI_URL_TEMPLATE with `{host}` = the recording's storage_server_ip, which must be in
ARI_HOSTS when that allow-list is set. 404 raises `AriNotFound`; any other error status is an
`httpx.HTTPStatusError` (5xx transient, 4xx fatal by the shared taxonomy).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO, Protocol
from urllib.parse import quote

import httpx

from lineblocs_maintenance.relocation.errors import AriNotFound, BadRecording, UnknownMediaServer

CHUNK = 256 * 1024
# A host name, an IPv4 address, or an IPv6 one in brackets: nothing that could alter the URL.
HOST = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?)$")
MAX_NAME = 255


@dataclass(frozen=True)
class Download:
    content_type: str
    size: int
    sha256: str


class Ari(Protocol):
    def download(self, host: str, name: str, sink: BinaryIO) -> Download:
        """Copy the stored recording into `sink`; AriNotFound when the server has none."""
        ...

    def delete(self, host: str, name: str) -> bool:
        """Delete the stored recording; False when it was already gone."""
        ...

    def close(self) -> None: ...


def recording_name(storage_id: str) -> str:
    """The stored recording's name from the row's storage_id, or BadRecording."""
    name = storage_id.strip()
    if not name or len(name) > MAX_NAME or not name.isprintable():
        raise BadRecording(f"storage_id {storage_id[:80]!r} does not name a stored recording")
    if name.startswith("/") or ".." in name.split("/"):
        raise BadRecording(f"storage_id {storage_id[:80]!r} is not a relative recording name")
    return name


def check_host(host: str, allowed: frozenset[str]) -> str:
    """The media server's host, or UnknownMediaServer (not a host, or not in ARI_HOSTS)."""
    if not HOST.match(host or ""):
        raise UnknownMediaServer(f"storage_server_ip {host[:80]!r} is not a host")
    if allowed and host not in allowed:
        raise UnknownMediaServer(f"storage_server_ip {host!r} is not in ARI_HOSTS")
    return host


def copy_hashing(chunks: Iterable[bytes], sink: BinaryIO) -> tuple[int, str]:
    """Write every chunk to `sink`; returns (bytes written, their SHA-256 in hex)."""
    digest, size = hashlib.sha256(), 0
    for chunk in chunks:
        digest.update(chunk)
        sink.write(chunk)
        size += len(chunk)
    return size, digest.hexdigest()


def media_type(header: str | None) -> str:
    return (header or "application/octet-stream").split(";")[0].strip().lower()


class HttpAri:
    """One httpx client (kept-alive connections) for every media server."""

    def __init__(
        self,
        *,
        url_template: str,
        hosts: Iterable[str],
        username: str,
        password: str,
        timeout_s: float,
    ) -> None:
        self._template = url_template
        self._hosts = frozenset(hosts)
        self._client = httpx.Client(auth=(username, password), timeout=timeout_s)

    def base_url(self, host: str) -> str:
        return self._template.format(host=check_host(host, self._hosts))

    def _url(self, host: str, name: str) -> str:
        return f"{self.base_url(host)}/recordings/stored/{quote(name, safe='')}"

    def download(self, host: str, name: str, sink: BinaryIO) -> Download:
        with self._client.stream("GET", self._url(host, name) + "/file") as response:
            if response.status_code == 404:
                raise AriNotFound(f"{host} has no stored recording {name!r}")
            response.raise_for_status()
            size, sha256 = copy_hashing(response.iter_bytes(CHUNK), sink)
        return Download(media_type(response.headers.get("content-type")), size, sha256)

    def delete(self, host: str, name: str) -> bool:
        response = self._client.delete(self._url(host, name))
        if response.status_code == 404:
            return False
        response.raise_for_status()
        return True

    def close(self) -> None:
        self._client.close()


class InMemoryAri:
    """The demo's media server: stored recordings held in a dict, keyed by (host, name)."""

    def __init__(self, files: dict[tuple[str, str], bytes] | None = None) -> None:
        self.files = dict(files or {})
        self.deleted: list[tuple[str, str]] = []

    def download(self, host: str, name: str, sink: BinaryIO) -> Download:
        body = self.files.get((host, name))
        if body is None:
            raise AriNotFound(f"{host} has no stored recording {name!r}")
        chunks = (body[i : i + CHUNK] for i in range(0, len(body), CHUNK))
        size, sha256 = copy_hashing(chunks, sink)
        return Download("audio/wav", size, sha256)

    def delete(self, host: str, name: str) -> bool:
        self.deleted.append((host, name))
        return self.files.pop((host, name), None) is not None

    def close(self) -> None:
        """Nothing held open."""
