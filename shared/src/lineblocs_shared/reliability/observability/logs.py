"""Structured logs: one JSON object per line (or readable text), carrying the message context.

`LogContext` (a Dramatiq middleware) puts the message id, actor and queue of the message a
worker thread is processing into a context variable; `bind_run_id` adds the ledger's run id;
`ContextFilter` copies them onto every log record, whichever library logged it.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from types import MappingProxyType
from typing import IO, Any

import dramatiq
from dramatiq.middleware import Middleware

from lineblocs_shared.reliability.failures.taxonomy import ExpectedContention
from lineblocs_shared.reliability.observability.redaction import mask_secrets
from lineblocs_shared.settings import Settings

CONTEXT_FIELDS = ("message_id", "actor", "queue", "run_id")

_EMPTY: Mapping[str, str] = MappingProxyType({})
_context: contextvars.ContextVar[Mapping[str, str]] = contextvars.ContextVar(
    "lineblocs_log_context", default=_EMPTY
)

# Attributes every LogRecord has: anything else on a record came from `extra=` and is logged.
_RECORD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys() | {"message", "asctime"}
)


def current_log_context() -> Mapping[str, str]:
    return _context.get()


@contextmanager
def log_context(**fields: object) -> Iterator[None]:
    """Add fields to the log context of this thread for the duration of the block."""
    added = {name: str(value) for name, value in fields.items() if value is not None}
    token = _context.set({**_context.get(), **added})
    try:
        yield
    finally:
        _context.reset(token)


def bind_run_id(run_id: int | str) -> AbstractContextManager[None]:
    """`with bind_run_id(run.id): …` — every log line inside carries `run_id`."""
    return log_context(run_id=run_id)


class ContextFilter(logging.Filter):
    """Copies the log context onto each record (as attributes) without dropping any record."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in _context.get().items():
            if not hasattr(record, name):
                setattr(record, name, value)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, context, extras, exception.

    Every text is cut at `redaction.MAX_TEXT` and has its secrets masked before it is encoded:
    a message's arguments reach log lines through Dramatiq's failure line and pydantic's errors.
    """

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": mask_secrets(record.getMessage()),
            "pid": record.process,  # a worker container runs several worker processes
        }
        for name, value in vars(record).items():
            if name not in _RECORD_ATTRIBUTES and not name.startswith("_"):
                entry[name] = mask_secrets(value) if isinstance(value, str) else value
        if record.exc_info:
            entry["exception"] = mask_secrets(self.formatException(record.exc_info))
        if record.stack_info:
            entry["stack"] = mask_secrets(self.formatStack(record.stack_info))
        # default=str: an extra that JSON cannot hold must not lose the whole line.
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """Development format: the usual line, then the context fields in brackets."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        """The line and its traceback, cut and with secrets masked (see `JsonFormatter`)."""
        return mask_secrets(super().format(record))

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        context = " ".join(
            f"{name}={getattr(record, name)}" for name in CONTEXT_FIELDS if hasattr(record, name)
        )
        return f"{line} [{context}]" if context else line


class ContentionFilter(logging.Filter):
    """An expected, retried contention (`ExpectedContention`) is one short INFO line, not an
    ERROR with a traceback: Dramatiq logs every exception an actor raises that way, and ERROR is
    kept for what an operator must look at."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if not isinstance(error, ExpectedContention) or record.levelno <= logging.INFO:
            return True
        record.msg = f"{record.getMessage()} Expected contention, retried: {error}"
        record.args = ()
        record.exc_info = record.exc_text = None
        record.levelno, record.levelname = logging.INFO, "INFO"
        return logging.getLogger().isEnabledFor(logging.INFO)


def configure_logging(settings: Settings, *, stream: IO[str] | None = None) -> None:
    """Root logging of a process: one handler on `stream` (stderr), JSON or text, with the
    context filter."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if settings.json_logs else TextFormatter())
    # On the handler, not a logger: handler filters see records from every logger.
    handler.addFilter(ContextFilter())
    handler.addFilter(ContentionFilter())
    logging.basicConfig(level=settings.log_level, handlers=[handler], force=True)
    # pika logs every connection step at INFO.
    logging.getLogger("pika").setLevel(logging.WARNING)


class LogContext(Middleware):
    """Binds message_id, actor and queue while a worker thread processes a message.

    Put it first in the middleware list: Dramatiq runs `before_*` hooks in list order and
    `after_*` hooks in reverse, so the context covers what every other middleware logs.
    """

    def before_process_message(
        self, broker: dramatiq.Broker, message: dramatiq.MessageProxy
    ) -> None:
        _context.set(
            {
                "message_id": message.message_id,
                "actor": message.actor_name,
                "queue": message.queue_name,
            }
        )

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: dramatiq.MessageProxy,
        *,
        result: object = None,
        exception: BaseException | None = None,
    ) -> None:
        # A worker thread processes one message at a time: nothing outer to restore.
        _context.set(_EMPTY)

    def after_skip_message(self, broker: dramatiq.Broker, message: dramatiq.MessageProxy) -> None:
        _context.set(_EMPTY)
