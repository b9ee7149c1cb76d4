"""Dramatiq's and periodiq's own command lines, logging our way in every process they run:
`python -m lineblocs_shared.queue.process_cli dramatiq|periodiq ARGS…` (what `lineblocs-jobs
worker` and `scheduler` exec).

Both set up logging themselves, in their own text format: the dramatiq master (and the
processes it forks) and periodiq printed text lines among a worker's JSON ones. Their setup
functions are replaced before their `main` runs, so with LOG_FORMAT=json every line of every
process is one JSON object, and with text every line has our one text format.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import IO, Any

from lineblocs_shared.reliability.observability.logs import configure_logging
from lineblocs_shared.settings import load_settings


def _our_logging(stream: IO[str] | None = None) -> None:
    configure_logging(load_settings(), stream=stream)


def _dramatiq(argv: list[str]) -> int:
    from dramatiq import cli

    def parent(_args: Any, *, stream: IO[str] = sys.stderr) -> logging.Logger:
        _our_logging(stream)  # the master logs into a pipe once it has forked: its stream
        return cli.get_logger("dramatiq", "MainProcess")

    def child(prefix: str) -> Callable[..., logging.Logger]:
        def setup(_args: Any, child_id: int, logging_pipe: Any) -> logging.Logger:
            # As dramatiq does: all output of a child goes through the master, line by line.
            sys.stdout = sys.stderr = logging_pipe
            _our_logging(logging_pipe)
            logging.getLogger("pika").setLevel(logging.CRITICAL)
            return cli.get_logger("dramatiq", f"{prefix}({child_id})")

        return setup

    cli.setup_parent_logging = parent
    cli.setup_worker_logging = child("WorkerProcess")
    cli.setup_fork_logging = child("ForkProcess")
    sys.argv = ["dramatiq", *argv]
    return int(cli.main() or 0)


def _periodiq(argv: list[str]) -> int:
    import periodiq

    _our_logging()
    args = periodiq.make_argument_parser().parse_args(argv)
    # periodiq's main sets the root level from its -v count: keep LOG_LEVEL's instead.
    periodiq.VERBOSITY = {args.verbose: logging.getLogger().level}
    main: Callable[[Any], int] = periodiq.main
    try:
        return main(args)
    except Exception:
        logging.getLogger("periodiq").exception("periodiq stopped")  # one JSON line too
        return 1


PROGRAMS = {"dramatiq": _dramatiq, "periodiq": _periodiq}


def run(argv: list[str]) -> int:
    if not argv or argv[0] not in PROGRAMS:
        print(f"usage: process_cli {{{'|'.join(PROGRAMS)}}} ARGS…", file=sys.stderr)
        return 2
    return PROGRAMS[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
