"""periodiq's stale-message skip, applied to first deliveries only.

periodiq drops a periodic message older than `skip_delay`. A Dramatiq retry keeps the original
`scheduled_at`, so a retry due after the delay would be dropped too, and the period's run would
stay FAILED. Once-per-period claims make a late message harmless, so only a first delivery that
is late (a backlog after an outage) is skipped; retries always run.
"""

from __future__ import annotations

import dramatiq
from dramatiq.broker import MessageProxy
from periodiq import PeriodiqMiddleware


class FirstDeliveryPeriodiq(PeriodiqMiddleware):
    def before_process_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        if message.options.get("retries", 0):
            return
        super().before_process_message(broker, message)
