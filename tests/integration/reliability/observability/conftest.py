"""Fixtures of the observability tests: a RabbitMQ vhost of one's own, free TCP ports."""

from __future__ import annotations

import shutil
import socket
import subprocess
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from tests.conftest import AMQP_SERVER_URL, service_missing


@pytest.fixture
def fresh_amqp_url(amqp_url: str) -> Iterator[str]:
    """A vhost of this test alone: no queue exists there until someone declares one."""
    ctl = shutil.which("rabbitmqctl") or ""
    if not ctl:
        service_missing("rabbitmqctl not found: cannot create a vhost without queues")
    vhost = f"lbj-health-{uuid.uuid4().hex[:10]}"
    subprocess.run([ctl, "-q", "add_vhost", vhost], check=True, timeout=60)
    user = urlsplit(AMQP_SERVER_URL).username or "guest"
    subprocess.run(
        [ctl, "-q", "set_permissions", "-p", vhost, user, ".*", ".*", ".*"], check=True, timeout=60
    )
    yield f"{AMQP_SERVER_URL}/{vhost}"
    subprocess.run([ctl, "-q", "delete_vhost", vhost], check=False, timeout=60)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
