"""The processes the chaos test starts: their environment, and the distributor's command."""

from __future__ import annotations

import os
import re
import subprocess

from tests.support.worker_supervisor import CLI

# Settings a developer's shell may hold that would change what the workers do.
FOREIGN_SETTINGS = (
    "DATABASE_URL",
    "QUEUE_URL",
    "ENVIRONMENT",
    "PAYMENT_GATEWAY_OVERRIDE",
    "STRIPE_API_BASE",
    "BRAINTREE_API_BASE",
    "PAYMENT_TIMEOUT_S",
    "PAYMENT_NETWORK_RETRIES",
    "FAKE_GATEWAY_LATENCY_MS",
    "WORKER_PROCESSES",
    "WORKER_THREADS",
    "SENTRY_DSN",
)
ENQUEUED = re.compile(r"(\d+) enqueued, (\d+) failed")


def process_env(**settings: str) -> dict[str, str]:
    """This process's environment without our settings, plus `settings`."""
    env = {k: v for k, v in os.environ.items() if k not in FOREIGN_SETTINGS}
    env.update(LOG_LEVEL="INFO", LOG_FORMAT="text", HEALTH_PORT="0", METRICS_PORT="0")
    env.update(settings)
    return env


def run_distributor(env: dict[str, str]) -> str:
    """`lineblocs-jobs billing run`; its summary line. Fails on a non-zero exit."""
    done = subprocess.run(
        [CLI, "billing", "run"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.strip().splitlines()[-1]


def enqueued(summary: str) -> int:
    """How many bill messages a `billing run` summary line says RabbitMQ confirmed."""
    found = ENQUEUED.search(summary)
    assert found is not None, summary
    assert found.group(2) == "0", summary
    return int(found.group(1))
