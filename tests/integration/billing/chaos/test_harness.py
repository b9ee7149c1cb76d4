"""The chaos test's own tools, on this kernel: the connection-owner lookup and the relay's cut.

If either silently stopped working, the chaos test would lose its kill between the gateway's
charge and our commit, or its dropped broker connection — these fail first, and say which.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from tests.support.cuttable_relay import CuttableRelay
from tests.support.listener import Listener
from tests.support.proc_sockets import process_group, rss_kib, tcp_connection_owner

pytestmark = pytest.mark.integration


@pytest.fixture
def echo_server() -> Iterator[int]:
    """A TCP server on 127.0.0.1 that echoes each connection; its port."""

    def echo(conn: socket.socket) -> None:
        with conn:
            while data := conn.recv(4096):
                conn.sendall(data)

    listener = Listener(
        lambda conn: threading.Thread(target=echo, args=(conn,), daemon=True).start()
    )
    yield listener.port
    listener.close()


def test_the_owner_of_a_client_connection_is_found_by_its_port(echo_server: int) -> None:
    with socket.create_connection(("127.0.0.1", echo_server)) as client:
        client_port = client.getsockname()[1]
        candidates = [os.getppid(), os.getpid()]
        assert tcp_connection_owner(client_port, echo_server, candidates) == os.getpid()
        assert tcp_connection_owner(client_port, echo_server, [os.getppid()]) is None
    assert (rss_kib(os.getpid()) or 0) > 0
    assert os.getpid() in process_group(os.getpgid(0))


def test_a_cut_drops_open_connections_and_lets_new_ones_through(echo_server: int) -> None:
    relay = CuttableRelay(f"amqp://guest:guest@127.0.0.1:{echo_server}/vhost")
    try:
        assert relay.url.endswith(f"@127.0.0.1:{relay.port}/vhost")
        before = socket.create_connection(("127.0.0.1", relay.port), timeout=5)
        before.sendall(b"ping")
        assert before.recv(4) == b"ping"

        assert relay.cut() == 1

        assert before.recv(4) == b""  # the client sees its connection end
        before.close()
        with socket.create_connection(("127.0.0.1", relay.port), timeout=5) as after:
            after.sendall(b"pong")
            assert after.recv(4) == b"pong"
        assert relay.connections == 2
    finally:
        relay.close()


def test_a_closed_relay_serves_no_later_connection(echo_server: int) -> None:
    # A relay closed with its accept thread still blocked used to accept one more connection
    # and forward it: a later test's server then saw RabbitMQ's bytes.
    relay = CuttableRelay(f"amqp://guest:guest@127.0.0.1:{echo_server}/vhost")
    with socket.create_connection(("127.0.0.1", relay.port), timeout=5) as first:
        first.sendall(b"ping")
        assert first.recv(4) == b"ping"
    time.sleep(0.2)  # the accept thread is blocked in accept() again
    relay.close()

    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", relay.port), timeout=5).close()
    assert relay.connections == 1
