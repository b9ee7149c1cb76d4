"""What billing asks a payment gateway, and what the gateway answers.

Money is integer minor units ("cents"); the adapters convert at their edge (Stripe takes minor
units, Braintree a decimal string). A currency without cents (JPY, KRW, …) is refused when the
gateway is built: Lineblocs amounts are cents, and sending them as yen would charge a hundredfold.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from lineblocs_shared.errors import ConfigError

# ISO 4217 currencies whose minor unit is not 1/100 (Stripe's and Braintree's lists agree).
CURRENCIES_WITHOUT_CENTS = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX",
     "VND", "VUV", "XAF", "XOF", "XPF", "BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"}
)  # fmt: skip


class PaymentStatus(StrEnum):
    """Where a payment stands at the gateway, in billing's terms."""

    CREATED = "created"  # exists, nothing taken yet: confirm it (Stripe intent, Braintree auth)
    SUCCEEDED = "succeeded"  # the money is taken (or irrevocably on its way)
    DECLINED = "declined"  # final: nothing taken, and this payment can never take anything
    PROCESSING = "processing"  # the gateway has not decided yet: ask again later


@dataclass(frozen=True)
class ChargeRequest:
    """One payment attempt of one invoice. `attempt_key` is the attempt's deterministic key
    (`lineblocs_<workspace>_<period start Ymd>_<n>`): Stripe idempotency keys are derived from it
    and Braintree's `order_id` is it, so a redelivered attempt finds its payment again."""

    attempt_key: str
    amount_cents: int
    currency: str  # ISO 4217, any case
    customer_id: str  # users.stripe_id (Stripe customer / Braintree customer id)
    payment_method_id: str  # users_cards.stripe_payment_method_id (pm_… / Braintree token)
    workspace_id: int
    invoice_id: int
    description: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.amount_cents, bool) or not isinstance(self.amount_cents, int):
            raise TypeError(f"amount_cents must be integer cents, got {self.amount_cents!r}")
        if self.amount_cents <= 0:
            raise ValueError(f"a charge must be positive, got {self.amount_cents} cents")
        if not self.attempt_key or len(self.attempt_key) > 96:
            raise ValueError("attempt_key must be 1-96 characters")
        if not self.customer_id or not self.payment_method_id:
            raise ValueError("a charge needs a customer id and a payment method id")

    @property
    def metadata(self) -> dict[str, str]:
        """What the payment carries at the gateway so a human (or `find_payment`) can trace it."""
        return {
            "attempt_key": self.attempt_key,
            "workspace_id": str(self.workspace_id),
            "invoice_id": str(self.invoice_id),
        }


@dataclass(frozen=True)
class GatewayPayment:
    """A payment as the gateway sees it. `decline_code`/`decline_message` are set when DECLINED
    (Stripe decline code or error code; Braintree processor response code or rejection reason);
    `gateway_status` is the gateway's own word, for logs."""

    payment_id: str
    status: PaymentStatus
    amount_cents: int
    currency: str
    gateway_status: str
    decline_code: str | None = None
    decline_message: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status is PaymentStatus.SUCCEEDED

    @property
    def declined(self) -> bool:
        return self.status is PaymentStatus.DECLINED


def require_cents_currency(currency: str) -> str:
    """The currency upper-cased, or ConfigError when it has no cents (see the module docstring)."""
    code = currency.strip().upper()
    if len(code) != 3 or not code.isascii() or not code.isalpha():
        raise ConfigError(f"currency {currency!r} is not an ISO 4217 code")
    if code in CURRENCIES_WITHOUT_CENTS:
        raise ConfigError(
            f"currency {code} has no cents (minor unit is not 1/100): lineblocs-jobs bills in "
            "cents and refuses to charge it; change default_currency"
        )
    return code


def cents_to_decimal(cents: int) -> Decimal:
    """12345 -> Decimal('123.45'), exact (no float on the way)."""
    return Decimal(cents).scaleb(-2)


def decimal_to_cents(amount: Decimal | str) -> int:
    """Decimal('123.45') -> 12345; a fraction of a cent is a gateway bug, never rounded away."""
    value = Decimal(amount).scaleb(2)
    if value != value.to_integral_value():
        raise ValueError(f"amount {amount} is not a whole number of cents")
    return int(value)
