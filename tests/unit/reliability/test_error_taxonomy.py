"""Every library error the issue names is classified as it says, using the libraries' own
exception classes (several raised for real by the library itself)."""

from __future__ import annotations

import braintree.exceptions as bt
import braintree.exceptions.http as bt_http
import httpx
import pymysql
import pytest
import stripe
from dramatiq.brokers.stub import StubBroker
from dramatiq.errors import ActorNotFound
from pydantic import ValidationError
from sqlalchemy import create_engine, text
from sqlalchemy import exc as sa_exc

from lineblocs_shared.contracts import PurgeLogs
from lineblocs_shared.errors import ConfigError, DatabaseUnavailable
from lineblocs_shared.reliability.failures.taxonomy import (
    ErrorKind,
    FatalError,
    TransientError,
    classify,
)

T, F = ErrorKind.TRANSIENT, ErrorKind.FATAL


def mysql_error(code: int, message: str) -> sa_exc.OperationalError:
    """How SQLAlchemy hands a pymysql error to our code."""
    return sa_exc.OperationalError(
        "UPDATE t SET x = 1", {}, pymysql.err.OperationalError(code, message)
    )


def raised(callable_: object) -> BaseException:
    try:
        callable_()  # type: ignore[operator]
    except BaseException as exc:
        return exc
    raise AssertionError("expected an exception")


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (mysql_error(2006, "MySQL server has gone away"), T),
        (mysql_error(2013, "Lost connection to MySQL server during query"), T),
        (mysql_error(2003, "Can't connect to MySQL server"), T),
        (mysql_error(1213, "Deadlock found when trying to get lock"), T),
        (mysql_error(1205, "Lock wait timeout exceeded"), T),
        (pymysql.err.OperationalError(1213, "Deadlock found"), T),
        (sa_exc.DisconnectionError("pool pre-ping failed"), T),
        (sa_exc.TimeoutError("QueuePool limit reached"), T),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, BaseException) else str(v),
)
def test_database_connection_loss_and_lock_races_are_transient(
    exc: BaseException, kind: ErrorKind
) -> None:
    assert classify(exc) is kind


def test_a_refused_mysql_connection_raised_by_sqlalchemy_is_transient() -> None:
    engine = create_engine(
        "mysql+pymysql://root@127.0.0.1:1/none", connect_args={"connect_timeout": 2}
    )
    exc = raised(lambda: engine.connect().execute(text("SELECT 1")))
    assert isinstance(exc, sa_exc.OperationalError)
    assert classify(exc) is T


def test_a_duplicate_key_is_not_a_known_transient_code_but_unknown_errors_are_retried() -> None:
    # 1062 is not in the taxonomy: unknown, so transient and bounded by the retry limits.
    integrity = sa_exc.IntegrityError("INSERT", {}, pymysql.err.IntegrityError(1062, "Duplicate"))
    assert classify(integrity) is T


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (stripe.APIConnectionError("network is unreachable"), T),
        (stripe.RateLimitError("too many requests", http_status=429), T),
        (stripe.APIError("internal error", http_status=500), T),
        (stripe.APIError("bad gateway", http_status=502), T),
        (stripe.APIError("no status at all"), T),
        (stripe.APIError("idempotent request in flight", http_status=409), T),
        (stripe.IdempotencyError("concurrent request", http_status=409), T),
        (stripe.IdempotencyError("keys reused with other parameters", http_status=400), F),
        (
            stripe.CardError("Your card was declined.", "number", "card_declined", http_status=402),
            F,
        ),
        (stripe.InvalidRequestError("No such customer", "customer", http_status=404), F),
        (stripe.AuthenticationError("Invalid API key", http_status=401), F),
        (stripe.PermissionError("restricted key", http_status=403), F),
        (stripe.APIError("unprocessable", http_status=422), F),
    ],
    ids=lambda v: (
        f"{type(v).__name__}-{getattr(v, 'http_status', '')}"
        if isinstance(v, BaseException)
        else str(v)
    ),
)
def test_stripe_errors(exc: BaseException, kind: ErrorKind) -> None:
    assert classify(exc) is kind


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (bt.ServerError("500"), T),
        (bt.ServiceUnavailableError("503"), T),
        (bt.TooManyRequestsError("429"), T),
        (bt.GatewayTimeoutError("504"), T),
        (bt.RequestTimeoutError("408"), T),
        (bt_http.ConnectionError("refused"), T),
        (bt_http.TimeoutError("timed out"), T),
        (bt.AuthenticationError("401"), F),
        (bt.AuthorizationError("403"), F),
        (bt.ConfigurationError("no merchant id"), F),
        (bt.NotFoundError("404"), F),
        (bt.InvalidSignatureError("webhook"), F),
        (bt.UpgradeRequiredError("426"), F),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, BaseException) else str(v),
)
def test_braintree_errors(exc: BaseException, kind: ErrorKind) -> None:
    assert classify(exc) is kind


def http_status_error(status: int) -> BaseException:
    response = httpx.Response(status, request=httpx.Request("POST", "https://api.example.test/x"))
    return raised(response.raise_for_status)


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (500, T),
        (502, T),
        (503, T),
        (504, T),
        (408, T),
        (429, T),
        (400, F),
        (401, F),
        (404, F),
        (422, F),
    ],
)
def test_httpx_status_errors_by_status(status: int, kind: ErrorKind) -> None:
    exc = http_status_error(status)
    assert isinstance(exc, httpx.HTTPStatusError)
    assert classify(exc) is kind


def test_httpx_timeouts_and_refused_connections_are_transient() -> None:
    request = httpx.Request("GET", "https://api.example.test/")
    assert classify(httpx.ReadTimeout("read timed out", request=request)) is T
    assert classify(httpx.ConnectTimeout("connect timed out", request=request)) is T
    refused = raised(lambda: httpx.get("http://127.0.0.1:1/", timeout=2))
    assert isinstance(refused, httpx.ConnectError)
    assert classify(refused) is T


def test_httpx_unsupported_protocol_is_fatal() -> None:
    exc = raised(lambda: httpx.get("ftp://files.example.test/x"))
    assert isinstance(exc, httpx.UnsupportedProtocol)
    assert classify(exc) is F


def test_an_invalid_message_payload_is_fatal() -> None:
    exc = raised(lambda: PurgeLogs.model_validate({"retention_days": 0, "extra": 1}))
    assert isinstance(exc, ValidationError)
    assert classify(exc) is F


def test_a_message_for_an_unknown_actor_is_fatal() -> None:
    exc = raised(lambda: StubBroker().get_actor("nobody"))
    assert isinstance(exc, ActorNotFound)
    assert classify(exc) is F


def test_our_own_families_and_expected_failures() -> None:
    class GatewayBusy(TransientError):
        pass

    class InvoiceMissing(FatalError):
        pass

    assert classify(GatewayBusy("try later")) is T
    assert classify(InvoiceMissing("no invoice 7")) is F
    assert classify(DatabaseUnavailable("db down")) is T
    assert classify(ConfigError("no key")) is F


def test_unknown_exceptions_are_transient() -> None:
    assert classify(KeyError("surprise")) is T
    assert classify(RuntimeError("who knows")) is T


def chained(outer: BaseException, cause: BaseException) -> BaseException:
    try:
        raise outer from cause
    except BaseException as exc:
        return exc


def test_an_unknown_wrapper_is_judged_by_its_cause() -> None:
    card = stripe.CardError("declined", "number", "card_declined", http_status=402)
    assert classify(chained(RuntimeError("charge failed"), card)) is F
    assert classify(chained(RuntimeError("charge failed"), stripe.APIConnectionError("down"))) is T
    deep = chained(RuntimeError("job"), chained(ValueError("step"), card))
    assert classify(deep) is F


def test_a_known_wrapper_wins_over_its_cause() -> None:
    assert classify(chained(FatalError("give up"), stripe.APIConnectionError("down"))) is F
    assert classify(chained(TransientError("later"), bt.AuthenticationError("401"))) is T
