"""Queue names, in a module of their own: each service's `ServiceSpec` needs them at CLI start,
before (and without) Dramatiq or pydantic. `lineblocs_shared.contracts` re-exports them."""


class Queues:
    """Each service consumes the queue named after it (plus Dramatiq's `.DQ`/`.XQ`)."""

    BILLING = "billing"
    MAINTENANCE = "maintenance"
    NOTIFICATIONS = "notifications"
