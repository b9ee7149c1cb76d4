"""Stripe through stripe-python 16's `StripeClient`: PaymentIntents, created then confirmed.

- Explicit idempotency keys `<attempt key>:create` / `:confirm` / `:cancel`: the SDK's random
  key would not survive a redelivery; ours makes a re-send within 24 h replay Stripe's answer.
- Explicit timeouts (connect 5 s, read `timeout_s`, not the SDK's 80 s) and SDK network retries
  (connection errors, 409, 5xx; same key each time).
- `payment_method_types=['card']`: a saved card charged off-session needs no return_url.
- `off_session=True` at confirmation: the customer is not there, so Stripe applies the
  merchant-initiated exemptions, and a card that still needs 3-D Secure fails at once with
  `authentication_required` instead of waiting for an action nobody will take. An intent found
  in `requires_action` anyway is cancelled, so it can never succeed later, and is declined.
"""

from __future__ import annotations

from typing import Any

import stripe

from lineblocs_shared.payments.errors import (
    GatewayMisconfigured,
    GatewayRequestRejected,
    GatewayUnavailable,
)
from lineblocs_shared.payments.types import ChargeRequest, GatewayPayment, PaymentStatus

CONNECT_TIMEOUT_S = 5.0
# A customer has about one intent per month: 300 newest intents are years of history.
FIND_SCAN_LIMIT = 300

_STATUS = {
    "requires_confirmation": PaymentStatus.CREATED,
    "requires_action": PaymentStatus.CREATED,  # confirm_payment cancels it and declines
    "succeeded": PaymentStatus.SUCCEEDED,
    "processing": PaymentStatus.PROCESSING,
    "requires_capture": PaymentStatus.PROCESSING,  # never asked for (automatic capture)
    "requires_payment_method": PaymentStatus.DECLINED,  # the confirmation failed
    "canceled": PaymentStatus.DECLINED,
}


class StripeGateway:
    def __init__(
        self,
        *,
        api_key: str,
        currency: str,
        api_base: str | None = None,
        timeout_s: float = 20.0,
        network_retries: int = 2,
        key_label: str = "stripe_private_key",
    ) -> None:
        self._currency = currency.upper()
        self._key_label = key_label  # which setting the key came from, for error messages
        self._client = stripe.StripeClient(
            api_key,
            http_client=stripe.RequestsClient(timeout=(CONNECT_TIMEOUT_S, timeout_s)),
            max_network_retries=network_retries,
            base_addresses={"api": api_base} if api_base else None,
        )
        self._intents = self._client.v1.payment_intents

    @property
    def name(self) -> str:
        return "stripe"

    @property
    def currency(self) -> str:
        return self._currency

    def create_payment(self, req: ChargeRequest) -> GatewayPayment:
        params: dict[str, Any] = {
            "amount": req.amount_cents,
            "currency": req.currency.lower(),
            "customer": req.customer_id,
            "payment_method": req.payment_method_id,
            "payment_method_types": ["card"],
            "confirm": False,
            "metadata": req.metadata,
        }
        if req.description:
            params["description"] = req.description
        intent = self._call(
            lambda: self._intents.create(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": f"{req.attempt_key}:create"},
            )
        )
        return _payment(intent)

    def confirm_payment(self, payment_id: str, *, attempt_key: str) -> GatewayPayment:
        try:
            intent = self._call(
                lambda: self._intents.confirm(
                    payment_id,
                    params={"off_session": True},
                    options={"idempotency_key": f"{attempt_key}:confirm"},
                ),
                declines_as_errors=True,
            )
        except _Declined as declined:
            return declined.payment(self._retrieve(payment_id))
        except GatewayRequestRejected:
            # Stripe refuses to confirm an intent that is no longer awaiting confirmation
            # (a redelivery after a lost answer, past the 24 h key window): say where it stands.
            intent = self._retrieve(payment_id)
            if intent["status"] == "requires_confirmation":
                raise
        if intent["status"] == "requires_action":
            intent = self._cancel(intent["id"], attempt_key)
            return _payment(intent, decline=("authentication_required", "3-D Secure needed"))
        return _payment(intent)

    def find_payment(
        self, attempt_key: str, *, customer_id: str, payment_id: str | None = None
    ) -> GatewayPayment | None:
        if payment_id is not None:
            return _payment(self._retrieve(payment_id))
        return self._call(lambda: self._scan_customer(customer_id, attempt_key))

    def _scan_customer(self, customer_id: str, attempt_key: str) -> GatewayPayment | None:
        """The customer's newest intents, page by page (listing is strongly consistent; search
        is not), up to FIND_SCAN_LIMIT: the one whose metadata carry the attempt key."""
        page = self._intents.list(params={"customer": customer_id, "limit": 100})
        for scanned, intent in enumerate(page.auto_paging_iter()):
            if scanned >= FIND_SCAN_LIMIT:
                break
            metadata = intent["metadata"]
            if "attempt_key" in metadata and metadata["attempt_key"] == attempt_key:
                return _payment(intent)
        return None

    def _retrieve(self, payment_id: str) -> stripe.PaymentIntent:
        return self._call(lambda: self._intents.retrieve(payment_id))

    def _cancel(self, payment_id: str, attempt_key: str) -> stripe.PaymentIntent:
        return self._call(
            lambda: self._intents.cancel(
                payment_id, options={"idempotency_key": f"{attempt_key}:cancel"}
            )
        )

    def _call(self, request: Any, *, declines_as_errors: bool = False) -> Any:
        """Run one SDK call, translating its errors into our taxonomy."""
        try:
            return request()
        except stripe.CardError as exc:
            if declines_as_errors:
                raise _Declined(exc) from exc
            raise GatewayRequestRejected(f"Stripe refused the card: {_reason(exc)}") from exc
        except stripe.AuthenticationError as exc:
            raise GatewayMisconfigured(
                f"Stripe rejected the API key from {self._key_label} (HTTP 401): "
                "set a valid secret key in api_credentials_kv_store; nothing was charged"
            ) from exc
        except stripe.PermissionError as exc:
            raise GatewayMisconfigured(
                f"the Stripe key from {self._key_label} may not do this (HTTP 403, a restricted "
                "key without PaymentIntents write access?); nothing was charged"
            ) from exc
        except stripe.IdempotencyError as exc:
            raise GatewayRequestRejected(
                f"Stripe idempotency key reused with other parameters: {_reason(exc)}"
            ) from exc
        except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
            raise GatewayUnavailable(f"Stripe unreachable or busy: {_reason(exc)}") from exc
        except stripe.InvalidRequestError as exc:
            if exc.http_status == 409:  # same key still in flight at Stripe
                raise GatewayUnavailable(f"Stripe request in flight: {_reason(exc)}") from exc
            raise GatewayRequestRejected(f"Stripe refused the request: {_reason(exc)}") from exc
        except stripe.StripeError as exc:
            status = exc.http_status
            if status is not None and 400 <= status < 500 and status not in (408, 409, 429):
                raise GatewayRequestRejected(f"Stripe refused the request: {_reason(exc)}") from exc
            raise GatewayUnavailable(f"Stripe failed (HTTP {status}): {_reason(exc)}") from exc


class _Declined(Exception):
    """A confirmation Stripe declined (HTTP 402): a business outcome, not an error."""

    def __init__(self, exc: stripe.CardError) -> None:
        super().__init__(str(exc))
        body: dict[str, Any] = exc.json_body if isinstance(exc.json_body, dict) else {}
        error: dict[str, Any] = body["error"] if isinstance(body.get("error"), dict) else {}
        self.code = str(error.get("decline_code") or exc.code or "card_declined")
        self.message = str(error.get("message") or exc.user_message or "declined")

    def payment(self, intent: stripe.PaymentIntent) -> GatewayPayment:
        if intent["status"] == "succeeded":  # never for a 402, but the intent is the truth
            return _payment(intent)
        return _payment(intent, decline=(self.code, self.message), status=PaymentStatus.DECLINED)


def _payment(
    intent: stripe.PaymentIntent,
    *,
    decline: tuple[str, str] | None = None,
    status: PaymentStatus | None = None,
) -> GatewayPayment:
    gateway_status = str(intent["status"])
    ours = status or _STATUS.get(gateway_status, PaymentStatus.PROCESSING)
    if ours is PaymentStatus.DECLINED and decline is None:
        decline = _last_error(intent, gateway_status)
    return GatewayPayment(
        payment_id=str(intent["id"]),
        status=PaymentStatus.DECLINED if decline else ours,
        amount_cents=int(intent["amount"]),
        currency=str(intent["currency"]).upper(),
        gateway_status=gateway_status,
        decline_code=decline[0] if decline else None,
        decline_message=decline[1] if decline else None,
    )


def _last_error(intent: stripe.PaymentIntent, gateway_status: str) -> tuple[str, str]:
    details = intent.to_dict().get("last_payment_error")
    if details:
        code = details.get("decline_code") or details.get("code") or "card_declined"
        return str(code), str(details.get("message") or "declined")
    return gateway_status, f"payment intent {gateway_status}"


def _reason(exc: stripe.StripeError) -> str:
    """Stripe's own message and code, with the request id; never the key (Stripe masks it)."""
    code = f" [{exc.code}]" if exc.code else ""
    request = f" (request {exc.request_id})" if exc.request_id else ""
    return f"{exc.user_message or type(exc).__name__}{code}{request}"
