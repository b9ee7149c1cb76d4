"""Gateway failures in the project's taxonomy (`reliability/failures/taxonomy.py`).

A decline is not an error: it is a `GatewayPayment` with status DECLINED. What is raised:
- `GatewayUnavailable` (transient): network trouble, timeouts, 5xx, 429, a request still in
  flight. The outcome of the call may be unknown: reconcile (`find_payment`) before re-sending.
- `GatewayMisconfigured` (fatal): the gateway refused our credentials, merchant or currency.
  Nothing was charged; retrying cannot help; an operator must fix the settings.
- `GatewayRequestRejected` (fatal): the gateway refused this request's data (unknown customer or
  payment method, idempotency key reused with other parameters).
Each keeps the library exception as `__cause__`; messages never contain keys or card data.
"""

from __future__ import annotations

from lineblocs_shared.reliability.failures.taxonomy import FatalError, TransientError


class GatewayUnavailable(TransientError):
    """The gateway could not be reached or asked us to come back later."""


class GatewayMisconfigured(FatalError):
    """Our gateway settings are wrong: credentials, merchant, currency."""


class GatewayRequestRejected(FatalError):
    """The gateway refused this request's data; the same request will be refused again."""
