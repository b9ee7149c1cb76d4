"""CLI start-up: CPU and wall time of `lineblocs-jobs --help`, `health --help` and `health`.

`uv run python -m benchmarks.cli_startup`: each command runs as a child process several times,
alternating with the others; its CPU is the child's user + sys from `os.wait4`. `health` runs
against a throw-away MariaDB database (reference schema + our tables) and the local RabbitMQ.
Baselines in the same run: `python -c pass`, `python -c "import typer"`, and the container's
probe (`python -S probe.py`) against a health server in this process.

Two bytecode conditions, each with a private PYTHONPYCACHEPREFIX so that whatever `.pyc` files
the venv holds do not count: cached (warmed first), as in the image, which compiles at build
time (UV_COMPILE_BYTECODE); and none at all (PYTHONDONTWRITEBYTECODE, an empty tree), the worst
case: every module, the standard library's included, compiled at each start.
Goals, on cached bytecode: `--help` ≤ 0.5 s CPU, `health` ≤ 1 s CPU (issue 15: ~4 s each).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from subprocess import DEVNULL, Popen

from benchmarks.invoice_preview import bench_database
from benchmarks.support import DEFAULT_AMQP_URL, DEFAULT_MYSQL_URL, print_table, verdict
from lineblocs_shared.reliability.observability import probe
from lineblocs_shared.reliability.observability.health import CheckResult, ReadinessReport
from lineblocs_shared.reliability.observability.health_server import HealthServer

CLI = str(Path(sys.executable).with_name("lineblocs-jobs"))
CACHED = "bytecode cached (as the image)"
GOALS_CPU_S = {"lineblocs-jobs --help": 0.5, "lineblocs-jobs health": 1.0}


@dataclass
class Runs:
    name: str
    argv: list[str]
    cpu: list[float] = field(default_factory=list)
    wall: list[float] = field(default_factory=list)


def run_once(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """CPU (user + sys) and wall seconds of one child; a failing command stops the benchmark."""
    started = time.perf_counter()
    child = Popen(argv, env=env, stdout=DEVNULL, stderr=DEVNULL)
    _pid, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {child.returncode}")
    return usage.ru_utime + usage.ru_stime, wall


def contenders() -> list[Runs]:
    python = sys.executable
    return [
        Runs("python -c pass", [python, "-c", "pass"]),
        Runs('python -c "import typer"', [python, "-c", "import typer"]),
        Runs("probe: python -S probe.py (HTTP /readyz)", [python, "-S", probe.__file__]),
        Runs("lineblocs-jobs --help", [CLI, "--help"]),
        Runs("lineblocs-jobs health --help", [CLI, "health", "--help"]),
        Runs("lineblocs-jobs health", [CLI, "health"]),
    ]


def child_env(
    database_url: str, amqp_url: str, health_port: int, cache: Path, *, cached: bool
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "BRAINTREE_"))}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(
        ENVIRONMENT="development",
        DATABASE_URL=database_url,
        QUEUE_URL=amqp_url,
        SENTRY_DSN="",
        HEALTH_PORT=str(health_port),
        # .pyc files are read from (and written to) this tree only, whatever the venv holds.
        PYTHONPYCACHEPREFIX=str(cache),
    )
    if not cached:
        env["PYTHONDONTWRITEBYTECODE"] = "1"  # the tree stays empty: all compiled at each start
    return env


def measure(env: dict[str, str], repeat: int, *, warm: bool) -> list[Runs]:
    runs = contenders()
    if warm:
        for contender in runs:
            run_once(contender.argv, env)
    for _ in range(repeat):
        for contender in runs:
            cpu, wall = run_once(contender.argv, env)
            contender.cpu.append(cpu)
            contender.wall.append(wall)
    return runs


@contextmanager
def ready_health_server() -> Iterator[int]:
    """What the probe asks in a container, answering at once (its cost is the probe's own)."""
    ready = ReadinessReport((CheckResult("database", True, "answers"),))
    server = HealthServer(
        port=0, host="127.0.0.1", liveness=lambda: ready.results[0], readiness=lambda: ready
    )
    server.start()
    try:
        yield server.port
    finally:
        server.stop()


def table(title: str, runs: list[Runs]) -> None:
    rows = [
        (
            r.name,
            f"{statistics.median(r.cpu):.2f} s",
            f"{min(r.cpu):.2f} s",
            f"{statistics.median(r.wall):.2f} s",
            " ".join(f"{c:.2f}" for c in r.cpu),
        )
        for r in runs
    ]
    print_table(
        title, ["command", "CPU median", "CPU fastest", "wall median", "CPU each run"], rows
    )


def run(amqp_url: str, mysql_url: str, *, repeat: int = 7) -> bool:
    with bench_database(mysql_url) as engine, ready_health_server() as port:
        database_url = engine.url.render_as_string(hide_password=False)
        results = {}
        for cached, label in ((True, CACHED), (False, "no bytecode at all (worst case)")):
            with tempfile.TemporaryDirectory(prefix="lbj-pyc-") as cache:
                env = child_env(database_url, amqp_url, port, Path(cache), cached=cached)
                results[label] = measure(env, repeat, warm=cached)
            table(f"cli_startup — {label}, {repeat} runs each", results[label])
    cached_runs = {r.name: r for r in results[CACHED]}
    goals = [
        (f"{name} ≤ {limit} s CPU (median, bytecode cached)", statistics.median(runs.cpu) <= limit)
        for name, limit in GOALS_CPU_S.items()
        for runs in [cached_runs[name]]
    ]
    print_table("goals", ["goal", "verdict"], [(goal, verdict(met)) for goal, met in goals])
    return all(met for _goal, met in goals)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cli_startup")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)
    amqp_url = os.environ.get("BENCH_AMQP_URL", DEFAULT_AMQP_URL)
    mysql_url = os.environ.get("TEST_MYSQL_URL", DEFAULT_MYSQL_URL)
    return 0 if run(amqp_url, mysql_url, repeat=args.repeat) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
