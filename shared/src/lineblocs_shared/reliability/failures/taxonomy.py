"""Error taxonomy: is a failure worth retrying (transient) or not (fatal)?

Our own code raises `TransientError` / `FatalError` subclasses. Library errors are mapped by
`classify`, the one place that knows them. An exception nobody knows is transient: it is retried,
but only as often as the actor's retry limits allow, then dead-lettered.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from enum import StrEnum
from functools import cache
from types import ModuleType
from typing import Any

import pydantic
import pymysql
from dramatiq.errors import ActorNotFound, RateLimitExceeded, Retry
from sqlalchemy import exc as sa_exc

from lineblocs_shared.errors import (
    BrokerUnavailable,
    ConfigError,
    DatabaseUnavailable,
    SchemaError,
)


class ErrorKind(StrEnum):
    TRANSIENT = "transient"
    FATAL = "fatal"


class TransientError(Exception):
    """A failure that may go away by itself: retry later."""


class ExpectedContention(TransientError):
    """Another delivery holds what this one needs (a period being settled, a mail being sent):
    an expected race, retried. Logged as one short line, never as an error with a traceback
    (`observability.logs.ContentionFilter`)."""


class FatalError(Exception):
    """A failure that a retry cannot fix (bad input, refused card, wrong credentials)."""


# MySQL/MariaDB error numbers that mean "try again": the connection went away, the server is
# busy or shutting down, or our transaction lost a lock race.
MYSQL_TRANSIENT_CODES = frozenset(
    {
        1040,  # too many connections
        1053,  # server shutdown in progress
        1205,  # lock wait timeout exceeded
        1213,  # deadlock found when trying to get lock
        1927,  # MariaDB: connection was killed
        2002,  # can't connect through socket
        2003,  # can't connect to server
        2006,  # server has gone away
        2013,  # lost connection during query
        2055,  # lost connection (pymysql)
        4031,  # MySQL 8: disconnected by the server because of inactivity
    }
)

# HTTP statuses a retry can fix: timeouts, early data, rate limits.
RETRYABLE_4XX = frozenset({408, 425, 429})

Classifier = Callable[[BaseException], ErrorKind | None]


def _loaded(module: str) -> ModuleType | None:
    """A payment/HTTP library only if this process imported it: an exception of a library that
    was never imported cannot exist, and importing Stripe and Braintree costs ~0.6 s per start."""
    return sys.modules.get(module)


def classify(exc: BaseException) -> ErrorKind:
    """TRANSIENT or FATAL; an unknown exception is judged by its `__cause__`, else transient."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        for classifier in CLASSIFIERS:
            kind = classifier(current)
            if kind is not None:
                return kind
        current = current.__cause__
    return ErrorKind.TRANSIENT


def _ours(exc: BaseException) -> ErrorKind | None:
    if isinstance(exc, TransientError | DatabaseUnavailable | BrokerUnavailable):
        return ErrorKind.TRANSIENT
    if isinstance(exc, FatalError | ConfigError | SchemaError):
        return ErrorKind.FATAL
    return None


def _dramatiq(exc: BaseException) -> ErrorKind | None:
    if isinstance(exc, ActorNotFound):
        return ErrorKind.FATAL
    if isinstance(exc, Retry | RateLimitExceeded):
        return ErrorKind.TRANSIENT
    return None


def _validation(exc: BaseException) -> ErrorKind | None:
    # A payload that does not validate now will not validate on the next attempt either.
    return ErrorKind.FATAL if isinstance(exc, pydantic.ValidationError) else None


def _mysql_code(exc: BaseException) -> int | None:
    if isinstance(exc, pymysql.err.MySQLError) and exc.args and isinstance(exc.args[0], int):
        return exc.args[0]
    return None


def _database(exc: BaseException) -> ErrorKind | None:
    if isinstance(exc, sa_exc.DisconnectionError | sa_exc.TimeoutError):
        return ErrorKind.TRANSIENT  # the pool lost a connection or waited too long for one
    if isinstance(exc, sa_exc.DBAPIError):
        if exc.connection_invalidated:
            return ErrorKind.TRANSIENT
        return _database(exc.orig) if exc.orig is not None else None
    if _mysql_code(exc) in MYSQL_TRANSIENT_CODES:
        return ErrorKind.TRANSIENT
    return None


def _http_status(status: int | None) -> ErrorKind | None:
    if status is None:
        return None
    if status >= 500 or status in RETRYABLE_4XX:
        return ErrorKind.TRANSIENT
    if 400 <= status < 500:
        return ErrorKind.FATAL
    return None


def _stripe(exc: BaseException) -> ErrorKind | None:
    stripe: Any = _loaded("stripe")
    if stripe is None or not isinstance(exc, stripe.StripeError):
        return None
    # 409: a concurrent request with the same idempotency key is still in flight at Stripe.
    if exc.http_status == 409:
        return ErrorKind.TRANSIENT
    if isinstance(exc, stripe.APIConnectionError | stripe.RateLimitError):
        return ErrorKind.TRANSIENT
    if isinstance(
        exc,
        stripe.CardError
        | stripe.InvalidRequestError
        | stripe.AuthenticationError
        | stripe.PermissionError
        | stripe.SignatureVerificationError
        # 400: the key was reused with different parameters; a retry sends the same ones.
        | stripe.IdempotencyError,
    ):
        return ErrorKind.FATAL
    # APIError and newer error types: by status; no status means Stripe answered oddly.
    return _http_status(exc.http_status) or ErrorKind.TRANSIENT


@cache
def _braintree_families() -> tuple[tuple[type[Exception], ...], tuple[type[Exception], ...]]:
    import braintree.exceptions as errors
    import braintree.exceptions.http as http

    transient = (
        errors.ServerError,
        errors.ServiceUnavailableError,
        errors.TooManyRequestsError,
        errors.GatewayTimeoutError,
        errors.RequestTimeoutError,
        http.ConnectionError,
        http.TimeoutError,
    )
    fatal = (
        errors.AuthenticationError,
        errors.AuthorizationError,
        errors.ConfigurationError,
        errors.NotFoundError,
        errors.InvalidSignatureError,
        errors.InvalidChallengeError,
        errors.UpgradeRequiredError,
        errors.TestOperationPerformedInProductionError,
    )
    return transient, fatal


def _braintree(exc: BaseException) -> ErrorKind | None:
    if _loaded("braintree") is None:
        return None
    transient, fatal = _braintree_families()
    if isinstance(exc, transient):
        return ErrorKind.TRANSIENT
    if isinstance(exc, fatal):
        return ErrorKind.FATAL
    return None


def _httpx(exc: BaseException) -> ErrorKind | None:
    httpx: Any = _loaded("httpx")
    if httpx is None:
        return None
    if isinstance(exc, httpx.HTTPStatusError):
        return _http_status(exc.response.status_code)
    if isinstance(exc, httpx.UnsupportedProtocol):
        return ErrorKind.FATAL  # a malformed URL stays malformed
    if isinstance(exc, httpx.TransportError):
        return ErrorKind.TRANSIENT  # timeouts, refused connections, dropped streams
    return None


def _os_level(exc: BaseException) -> ErrorKind | None:
    # Python's own socket-level failures (ConnectionRefusedError, socket timeouts, …).
    return ErrorKind.TRANSIENT if isinstance(exc, ConnectionError | TimeoutError) else None


def _programming(exc: BaseException) -> ErrorKind | None:
    # Code that calls an actor or a function with the wrong arguments, or uses an attribute a
    # value does not have, fails the same way on every attempt: retrying it for hours only
    # delays the alert (an actor given positional or unknown arguments raises TypeError).
    return ErrorKind.FATAL if isinstance(exc, TypeError | AttributeError | NameError) else None


CLASSIFIERS: tuple[Classifier, ...] = (
    _ours,
    _dramatiq,
    _validation,
    _database,
    _stripe,
    _braintree,
    _httpx,
    _os_level,
    _programming,
)
