"""The dunning ladder: when a failed invoice is tried again, and when never.

Rules R-DUN-1 to R-DUN-3 of docs/billing-rules.md.

Pure arithmetic on settings and counts; the due time it returns is stored in
`lbj_billing_periods.next_attempt_at`, where the sweep finds it (never a queue delay).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from lineblocs_shared.site_settings.reader import SiteSettings

# Days after the previous attempt: 1, 3, 7, then every 7.
LADDER_DAYS = (1, 3, 7)
RETRIES_WHEN_UNSET = 3


@dataclass(frozen=True)
class DunningPolicy:
    enabled: bool
    retries: int  # tries after the first one

    @classmethod
    def of(cls, *, retry_enabled: bool, num_retries: int) -> DunningPolicy:
        """Lineblocs' billing_retry_enabled / billing_num_retries; 0 retries when enabled = 3."""
        if not retry_enabled:
            return cls(enabled=False, retries=0)
        return cls(enabled=True, retries=num_retries or RETRIES_WHEN_UNSET)

    @classmethod
    def of_site(cls, site: SiteSettings) -> DunningPolicy:
        return cls.of(
            retry_enabled=site.billing_retry_enabled, num_retries=site.billing_num_retries
        )

    def delay_after(self, failures: int) -> timedelta:
        """The wait after the `failures`-th failed try (1-based) before the next one."""
        if failures < 1:
            raise ValueError("failures counts failed tries, from 1")
        days = LADDER_DAYS[min(failures, len(LADDER_DAYS)) - 1]
        return timedelta(days=days)

    def next_try(self, *, failures: int, failed_at: datetime) -> datetime | None:
        """When to try again after `failures` failed tries, or None: no more tries."""
        if not self.enabled or failures > self.retries:
            return None
        return failed_at + self.delay_after(failures)

    def gives_up(self, *, failures: int) -> bool:
        """The last try has failed: time to suspend. Never when dunning is off (see docs)."""
        return self.enabled and failures > self.retries
