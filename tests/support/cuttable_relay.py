"""A TCP relay in front of RabbitMQ whose live connections a test cuts at a moment it chooses.

`tcp_proxy.FaultyProxy` faults a client's first connection after so many bytes; a worker
process opens several connections (a pre-flight ping, one per consumer, one per publishing
thread) at times of its own, so the chaos test needs another shape: relay every connection
untouched until `cut()`, which closes every connection open at that instant, both sides — as a
network partition or a broker restart would. Connections opened afterwards relay normally, so
the worker's reconnection gets through.
"""

from __future__ import annotations

import contextlib
import socket
import threading

from tests.support.listener import Listener, relayed_amqp_url

CHUNK = 65536


class CuttableRelay:
    def __init__(self, amqp_url: str) -> None:
        self.connections = 0  # accepted so far
        self.cut_connections = 0  # closed by `cut()`, all calls together
        self._live: set[tuple[socket.socket, socket.socket]] = set()
        self._lock = threading.Lock()
        self._listener = Listener(self._relay)
        self.port = self._listener.port
        self._target, self.url = relayed_amqp_url(amqp_url, self.port)

    @property
    def live(self) -> int:
        """Connections open now."""
        with self._lock:
            return len(self._live)

    def cut(self) -> int:
        """Close every connection open now, both ways; return how many were cut."""
        with self._lock:
            pairs, self._live = list(self._live), set()
            self.cut_connections += len(pairs)
        for pair in pairs:
            _close(*pair)
        return len(pairs)

    def close(self) -> None:
        self._listener.close()
        self.cut()

    def _relay(self, client: socket.socket) -> None:
        try:
            server = socket.create_connection(self._target)
        except OSError:
            client.close()  # the broker refused: the client sees its connection drop
            return
        pair = (client, server)
        with self._lock:
            self._live.add(pair)
            self.connections += 1
        for source, sink in (pair, (server, client)):
            threading.Thread(target=self._pump, args=(source, sink, pair), daemon=True).start()

    def _pump(
        self, source: socket.socket, sink: socket.socket, pair: tuple[socket.socket, socket.socket]
    ) -> None:
        try:
            while data := source.recv(CHUNK):
                sink.sendall(data)
        except OSError:
            pass
        # One side ended on its own (or was cut): end the other too, as a real peer would see.
        with self._lock:
            self._live.discard(pair)
        _close(*pair)


def _close(*sockets: socket.socket) -> None:
    for sock in sockets:
        with contextlib.suppress(OSError):  # already shut by the peer
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()
