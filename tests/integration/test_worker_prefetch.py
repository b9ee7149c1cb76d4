"""Every service's workers consume with a low prefetch, one message per thread, whether started
by `lineblocs-jobs worker <service>` or by the bare dramatiq command the README documents."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from sqlalchemy import Engine

from lineblocs_shared.cli.processes import dramatiq_argv
from lineblocs_shared.registry import get_service
from tests.integration.billing.distributor.conftest import drop_queue

pytestmark = pytest.mark.integration

CLI = str(Path(sys.executable).with_name("lineblocs-jobs"))
THREADS = 3


def _prefetch_by_queue(amqp_url: str) -> dict[str, int]:
    ctl = shutil.which("rabbitmqctl")
    if ctl is None:
        pytest.skip("rabbitmqctl is needed to read a consumer's prefetch")
    vhost = unquote(urlsplit(amqp_url).path.lstrip("/")) or "/"
    listing = subprocess.run(
        [ctl, "-q", "list_consumers", "-p", vhost, "queue_name", "prefetch_count"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    found = {}
    for line in listing.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            found[parts[0]] = int(parts[1])
    return found


SERVICES = ("billing", "maintenance")


def command(kind: str, service: str) -> list[str]:
    if kind == "cli":
        return [CLI, "worker", service, "--processes", "1", "--threads", str(THREADS)]
    return dramatiq_argv(get_service(service), processes=1, threads=THREADS)


@pytest.mark.parametrize("kind", ["cli", "dramatiq"])
@pytest.mark.parametrize("service", SERVICES)
def test_a_worker_holds_at_most_one_message_per_thread(
    jobs_engine: Engine, amqp_url: str, service: str, kind: str
) -> None:
    drop_queue(amqp_url, service)
    ours = ("DATABASE_URL", "QUEUE_URL", "WORKER_PREFETCH", "dramatiq_queue_prefetch")
    env = {k: v for k, v in os.environ.items() if k not in ours}
    env.update(
        DATABASE_URL=jobs_engine.url.render_as_string(False),
        QUEUE_URL=amqp_url,
        HEALTH_PORT="0",
        METRICS_PORT="0",
    )
    worker = subprocess.Popen(
        command(kind, service),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline, prefetch = time.monotonic() + 20, {}
        while time.monotonic() < deadline and service not in prefetch:
            time.sleep(0.3)
            prefetch = _prefetch_by_queue(amqp_url)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
        drop_queue(amqp_url, service)

    assert prefetch.get(service) == THREADS  # Dramatiq alone would prefetch 2 x threads
