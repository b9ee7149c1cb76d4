"""A TCP listener on 127.0.0.1 that hands each accepted connection to a callback, and whose
accept thread really ends when it is closed.

Why not just `socket.close()`: on Linux, closing a listening socket from another thread does not
wake the thread blocked in `accept()`. The kernel keeps the socket listening for that pending
call, so the next connection to the port is still accepted — and a relay in front of RabbitMQ
would forward it there (the likely cause of a CI run whose Stripe client read RabbitMQ's
protocol header, `BadStatusLine('AMQP…')`). `shutdown()` does wake `accept()`; a connection
that still slips in after `close()` is refused, never served.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit


class Listener:
    def __init__(self, on_connection: Callable[[socket.socket], None]) -> None:
        self._socket = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._socket.getsockname()[1]
        self._on_connection = on_connection
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._closed.set()
        with contextlib.suppress(OSError):  # never listened, or already shut
            self._socket.shutdown(socket.SHUT_RDWR)
        self._socket.close()
        self._thread.join(timeout=5)

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                connection, _ = self._socket.accept()
            except OSError:
                return  # shut down
            if self._closed.is_set():
                connection.close()
                return
            self._on_connection(connection)


def relayed_amqp_url(amqp_url: str, port: int) -> tuple[tuple[str, int], str]:
    """The broker's (host, port) to relay to, and `amqp_url` pointed at a relay on `port`
    (the same credentials and vhost)."""
    target = urlsplit(amqp_url)
    credentials = target.netloc.rpartition("@")[0]
    via = urlunsplit(target._replace(netloc=f"{credentials}@127.0.0.1:{port}"))
    return (target.hostname or "127.0.0.1", target.port or 5672), via
