"""A TCP relay in front of RabbitMQ that can stall or cut its first connection mid-stream.

Faults a real network has and a healthy local broker never shows: a connection that stops
answering (confirms never arrive) or one that drops. Connections after the first are relayed
untouched, so a client that reconnects gets through.
"""

from __future__ import annotations

import socket
import threading
from enum import Enum

from tests.support.listener import Listener, relayed_amqp_url

CHUNK = 65536


class Fault(Enum):
    STALL = "stall"  # stop relaying both ways, keep the sockets open
    CUT = "cut"  # close both sockets


class FaultyProxy:
    def __init__(self, amqp_url: str, *, fault: Fault, after_client_bytes: int) -> None:
        self._fault = fault
        self._after = after_client_bytes
        self.connections = 0
        self.fault_injected = threading.Event()
        self._sockets: list[socket.socket] = []
        self._listener = Listener(self._relay)
        self.port = self._listener.port
        self._target, self.url = relayed_amqp_url(amqp_url, self.port)

    def close(self) -> None:
        self._listener.close()
        for sock in self._sockets:
            sock.close()

    def _relay(self, client: socket.socket) -> None:
        server = socket.create_connection(self._target)
        self._sockets += [client, server]
        self.connections += 1
        faulty = self.connections == 1
        stop = threading.Event()
        threading.Thread(
            target=self._pump, args=(client, server, stop, faulty), daemon=True
        ).start()
        threading.Thread(target=self._pump, args=(server, client, stop, False), daemon=True).start()

    def _pump(
        self, source: socket.socket, sink: socket.socket, stop: threading.Event, counts: bool
    ) -> None:
        relayed = 0
        try:
            while not stop.is_set():
                data = source.recv(CHUNK)
                if not data or stop.is_set():
                    return
                sink.sendall(data)
                relayed += len(data)
                if counts and relayed >= self._after:
                    self._inject(source, sink, stop)
                    return
        except OSError:
            return

    def _inject(self, client: socket.socket, server: socket.socket, stop: threading.Event) -> None:
        stop.set()
        if self._fault is Fault.CUT:
            for sock in (client, server):
                sock.shutdown(socket.SHUT_RDWR)
                sock.close()
        self.fault_injected.set()
