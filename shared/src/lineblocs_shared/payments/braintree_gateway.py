"""Braintree through its SDK: authorize (a sale not yet submitted), then submit for settlement.

Braintree has no idempotency key, so the attempt key is the transaction's `order_id`, and an
attempt whose outcome is unknown is looked up with a search on it before anything is re-sent.
Authorizing first is what makes that safe: an authorization never settled takes no money (it
expires), and it lets us check the merchant account's currency before any money moves — a
mismatch voids the authorization and stops as a misconfiguration.

Declines come back as a result with a transaction (`processor_declined`, `gateway_rejected`,
`failed`); a result without a transaction is a validation error: bad data, fatal.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

import braintree
import braintree.exceptions as bt_errors
import braintree.exceptions.http as bt_http

from lineblocs_shared.payments.errors import (
    GatewayMisconfigured,
    GatewayRequestRejected,
    GatewayUnavailable,
)
from lineblocs_shared.payments.types import (
    ChargeRequest,
    GatewayPayment,
    PaymentStatus,
    cents_to_decimal,
    decimal_to_cents,
)
from lineblocs_shared.site_settings.values import BraintreeCredentials, BraintreeEnvironment

CONNECT_TIMEOUT_S = 5.0
CANNOT_SUBMIT_FOR_SETTLEMENT = "91507"  # the transaction is no longer 'authorized'

_S = braintree.Transaction.Status
_STATUS = {
    _S.Authorized: PaymentStatus.CREATED,
    _S.Authorizing: PaymentStatus.PROCESSING,
    _S.SubmittedForSettlement: PaymentStatus.SUCCEEDED,
    _S.Settling: PaymentStatus.SUCCEEDED,
    _S.SettlementPending: PaymentStatus.SUCCEEDED,
    _S.SettlementConfirmed: PaymentStatus.SUCCEEDED,
    _S.Settled: PaymentStatus.SUCCEEDED,
    _S.ProcessorDeclined: PaymentStatus.DECLINED,
    _S.GatewayRejected: PaymentStatus.DECLINED,
    _S.Failed: PaymentStatus.DECLINED,
    _S.SettlementDeclined: PaymentStatus.DECLINED,
    _S.SettlementFailed: PaymentStatus.DECLINED,
    _S.Voided: PaymentStatus.DECLINED,
    _S.AuthorizationExpired: PaymentStatus.DECLINED,
}

T = TypeVar("T")


class _CustomEnvironment(braintree.Environment):
    """An endpoint of our choosing (BRAINTREE_API_BASE). The SDK derives http/https from the
    port ('443' means https); here the URL's scheme decides, verified with the system CAs."""

    @property
    def protocol(self) -> str:
        return "https://" if self.is_ssl else "http://"


def braintree_environment(
    environment: BraintreeEnvironment, api_base: str | None
) -> braintree.Environment:
    if not api_base:
        if environment is BraintreeEnvironment.PRODUCTION:
            return braintree.Environment.Production
        return braintree.Environment.Sandbox
    url = urlsplit(api_base)
    https = url.scheme == "https"
    port = str(url.port or (443 if https else 80))
    host = url.hostname or ""
    # verify=True: requests checks the certificate against its CA bundle.
    return _CustomEnvironment(f"custom:{environment}", host, port, "", https, True)


class BraintreeGateway:
    def __init__(
        self,
        *,
        credentials: BraintreeCredentials,
        currency: str,
        api_base: str | None = None,
        timeout_s: float = 20.0,
    ) -> None:
        self._currency = currency.upper()
        self._merchant_id = credentials.merchant_id
        config = braintree.Configuration(
            environment=braintree_environment(credentials.environment, api_base),
            merchant_id=credentials.merchant_id,
            public_key=credentials.public_key,
            private_key=credentials.private_key,
            timeout=(CONNECT_TIMEOUT_S, timeout_s),
            wrap_http_exceptions=True,  # SDK exceptions instead of raw `requests` ones
        )
        self._transactions = braintree.BraintreeGateway(config).transaction

    @property
    def name(self) -> str:
        return "braintree"

    @property
    def currency(self) -> str:
        return self._currency

    def create_payment(self, req: ChargeRequest) -> GatewayPayment:
        result = self._call(
            lambda: self._transactions.sale(
                {
                    "amount": cents_to_decimal(req.amount_cents),
                    "order_id": req.attempt_key,
                    "customer_id": req.customer_id,
                    "payment_method_token": req.payment_method_id,
                    "transaction_source": "recurring",  # merchant-initiated, customer absent
                    "options": {"submit_for_settlement": False},
                }
            )
        )
        transaction = self._transaction_of(result, doing="authorize")
        self._check_currency(transaction, req)
        return _payment(transaction)

    def confirm_payment(self, payment_id: str, *, attempt_key: str) -> GatewayPayment:
        result = self._call(lambda: self._transactions.submit_for_settlement(payment_id))
        if result.is_success:
            return _payment(result.transaction)
        if result.transaction is None and not _has_code(result, CANNOT_SUBMIT_FOR_SETTLEMENT):
            raise GatewayRequestRejected(f"Braintree refused to settle: {_errors(result)}")
        # Already submitted (a redelivery after a lost answer), voided or declined: the
        # transaction itself says which.
        return _payment(self._find_by_id(payment_id))

    def find_payment(
        self, attempt_key: str, *, customer_id: str, payment_id: str | None = None
    ) -> GatewayPayment | None:
        if payment_id is not None:
            return _payment(self._find_by_id(payment_id))
        found = self._call(
            lambda: list(
                self._transactions.search(braintree.TransactionSearch.order_id == attempt_key)
            )
        )
        if not found:
            return None
        # Normally one. If an earlier run authorized twice, prefer the settled one: the other
        # authorization is never submitted and expires without taking money.
        found.sort(key=lambda t: (_STATUS.get(t.status) is PaymentStatus.SUCCEEDED, t.created_at))
        return _payment(found[-1])

    def _find_by_id(self, payment_id: str) -> Any:
        return self._call(lambda: self._transactions.find(payment_id))

    def _transaction_of(self, result: Any, *, doing: str) -> Any:
        if result.is_success or result.transaction is not None:
            return result.transaction  # a declined sale still is a transaction
        raise GatewayRequestRejected(f"Braintree refused to {doing}: {_errors(result)}")

    def _check_currency(self, transaction: Any, req: ChargeRequest) -> None:
        currency = str(getattr(transaction, "currency_iso_code", "") or "").upper()
        if not currency or currency == req.currency.upper():
            return
        if transaction.status == _S.Authorized:
            self._call(lambda: self._transactions.void(transaction.id))
        raise GatewayMisconfigured(
            f"Braintree merchant {self._merchant_id} charges in {currency}, the invoice is in "
            f"{req.currency.upper()}: authorization {transaction.id} voided, nothing charged; "
            "make the merchant account's currency default_currency"
        )

    def _call(self, request: Callable[[], T]) -> T:
        try:
            return request()
        except bt_errors.AuthenticationError as exc:
            raise GatewayMisconfigured(
                "Braintree rejected the API keys (HTTP 401): check braintree_public_key and "
                "braintree_private_key in api_credentials_kv_store; nothing was charged"
            ) from exc
        except bt_errors.AuthorizationError as exc:
            raise GatewayMisconfigured(
                f"the Braintree keys may not act for merchant {self._merchant_id} (HTTP 403): "
                "check braintree_merchant_id; nothing was charged"
            ) from exc
        except bt_errors.UpgradeRequiredError as exc:
            raise GatewayMisconfigured("Braintree requires a newer SDK (HTTP 426)") from exc
        except bt_errors.NotFoundError as exc:
            raise GatewayRequestRejected(
                f"Braintree: not found (HTTP 404) for merchant {self._merchant_id}: an unknown "
                "merchant id or transaction"
            ) from exc
        except (
            bt_errors.ServerError,
            bt_errors.ServiceUnavailableError,
            bt_errors.TooManyRequestsError,
            bt_errors.GatewayTimeoutError,
            bt_errors.RequestTimeoutError,
            bt_errors.UnexpectedError,
            bt_http.ConnectionError,
            bt_http.TimeoutError,
            bt_http.InvalidResponseError,
        ) as exc:
            raise GatewayUnavailable(f"Braintree unreachable or failing: {exc!r}") from exc


def _payment(transaction: Any) -> GatewayPayment:
    status = str(transaction.status)
    ours = _STATUS.get(status, PaymentStatus.PROCESSING)
    code = message = None
    if ours is PaymentStatus.DECLINED:
        code, message = _decline(transaction, status)
    return GatewayPayment(
        payment_id=str(transaction.id),
        status=ours,
        amount_cents=decimal_to_cents(transaction.amount),
        currency=str(getattr(transaction, "currency_iso_code", "") or "").upper(),
        gateway_status=status,
        decline_code=code,
        decline_message=message,
    )


def _decline(transaction: Any, status: str) -> tuple[str, str]:
    if status == _S.GatewayRejected:
        reason = getattr(transaction, "gateway_rejection_reason", None) or "gateway_rejected"
        return str(reason), f"rejected by Braintree ({reason})"
    code = getattr(transaction, "processor_response_code", None)
    text = getattr(transaction, "processor_response_text", None)
    if status in (_S.SettlementDeclined, _S.SettlementFailed):
        code = getattr(transaction, "processor_settlement_response_code", None) or code
        text = getattr(transaction, "processor_settlement_response_text", None) or text
    return str(code or status), str(text or status.replace("_", " "))


def _has_code(result: Any, code: str) -> bool:
    return any(error.code == code for error in result.errors.deep_errors)


def _errors(result: Any) -> str:
    errors = [f"{e.code} {e.attribute}: {e.message}" for e in result.errors.deep_errors]
    return "; ".join(errors) or str(result.message)
