"""`uv run python -m benchmarks [--only NAME]…`: run the benchmarks, print a table for each.

RabbitMQ comes from BENCH_AMQP_URL (default: guest on 127.0.0.1, vhost /); every queue is named
`bench.*` and deleted at the end (the billing benchmarks use a vhost of their own, deleted too,
and throw-away MariaDB databases from TEST_MYSQL_URL). Exit status 1 when a goal is not met.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from datetime import UTC, datetime

from benchmarks import (
    billing_distributor,
    billing_throughput,
    bulk_publish,
    cli_startup,
    invoice_preview,
    log_purge,
    middleware_throughput,
    notifications_throughput,
    recordings_relocation,
)
from benchmarks.support import DEFAULT_AMQP_URL, DEFAULT_MYSQL_URL, machine_rows, print_table

BENCHMARKS = (
    "bulk_publish",
    "middleware_throughput",
    "invoice_preview",
    "billing_distributor",
    "billing_throughput",
    "notifications_throughput",
    "log_purge",
    "recordings_relocation",
    "cli_startup",
)


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--only", action="append", choices=BENCHMARKS, help="repeatable")
    parser.add_argument("--amqp-url", default=os.environ.get("BENCH_AMQP_URL", DEFAULT_AMQP_URL))
    parser.add_argument("--repeat", type=int, help="runs per contender (median is reported)")
    parser.add_argument(
        "--messages",
        type=int,
        help="messages per run; billing_*: subscriptions (bills); log_purge: old rows",
    )
    parser.add_argument("--window", type=int, help="bulk_publish: unconfirmed messages in flight")
    parser.add_argument("--size-kib", type=int, help="recordings_relocation: each file's size")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = _arguments(argv)
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("pika").setLevel(logging.ERROR)
    mysql_url = os.environ.get("TEST_MYSQL_URL", DEFAULT_MYSQL_URL)
    print_table(
        f"machine — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        ["", ""],
        machine_rows(args.amqp_url, mysql_url),
    )
    chosen = args.only or list(BENCHMARKS)
    overrides = {
        key: value
        for key, value in (("repeat", args.repeat), ("messages", args.messages))
        if value is not None
    }
    all_met = True
    if "bulk_publish" in chosen:
        window = {"window": args.window} if args.window else {}
        config = bulk_publish.BulkPublishConfig(**overrides, **window)
        all_met &= bulk_publish.run(args.amqp_url, config)
    if "middleware_throughput" in chosen:
        config_mw = middleware_throughput.MiddlewareConfig(**overrides)
        all_met &= middleware_throughput.run(args.amqp_url, config_mw)
    repeat = {"repeat": args.repeat} if args.repeat else {}
    if "invoice_preview" in chosen:
        all_met &= invoice_preview.run(mysql_url, **repeat)
    billing_sizes = {"subscriptions": args.messages} if args.messages else {}
    if "billing_distributor" in chosen:
        all_met &= billing_distributor.run(args.amqp_url, mysql_url, **billing_sizes, **repeat)
    if "billing_throughput" in chosen:
        all_met &= billing_throughput.run(args.amqp_url, mysql_url, **billing_sizes)
    if "notifications_throughput" in chosen:
        mails = {"mails": args.messages} if args.messages else {}
        all_met &= notifications_throughput.run(args.amqp_url, mysql_url, **mails)
    if "log_purge" in chosen:
        all_met &= log_purge.run(mysql_url, **({"rows": args.messages} if args.messages else {}))
    if "recordings_relocation" in chosen:
        sizes = {"recordings": args.messages} if args.messages else {}
        sizes |= {"size_kib": args.size_kib} if args.size_kib else {}
        all_met &= recordings_relocation.run(args.amqp_url, mysql_url, **sizes)
    if "cli_startup" in chosen:
        all_met &= cli_startup.run(args.amqp_url, mysql_url, **repeat)
    return 0 if all_met else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
