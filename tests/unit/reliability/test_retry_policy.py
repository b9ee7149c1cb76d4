"""Backoff grows exponentially from min_backoff, never passes max_backoff, and keeps jitter."""

from __future__ import annotations

import pytest

from lineblocs_shared.reliability.failures.retries import RetryPolicy, RetryPolicyError, policy_for

POLICY = RetryPolicy(max_retries=8, min_backoff=1_000, max_backoff=60_000, retry_for_ms=600_000)


@pytest.mark.parametrize(
    ("retries_so_far", "low", "high"),
    [(0, 1_000, 2_000), (1, 2_000, 4_000), (3, 8_000, 16_000), (5, 32_000, 60_000)],
)
def test_backoff_doubles_with_jitter_up_to_twice_the_base(
    retries_so_far: int, low: int, high: int
) -> None:
    delays = [POLICY.backoff_ms(retries_so_far, jitter) for jitter in (0.0, 0.5, 0.999)]
    assert delays[0] == low
    assert all(low <= delay <= high for delay in delays)
    assert len(set(delays)) == 3  # jitter spreads messages that failed together


def test_backoff_at_the_cap_stays_between_half_and_all_of_max_backoff() -> None:
    delays = [POLICY.backoff_ms(40, jitter) for jitter in (0.0, 0.5, 0.999)]
    assert delays[0] == 30_000
    assert all(30_000 <= delay <= 60_000 for delay in delays)


def test_message_options_override_actor_options_override_the_default() -> None:
    policy = policy_for(
        POLICY,
        {"max_retries": 2, "min_backoff": 500, "time_limit": 10},
        {"max_retries": 0, "max_backoff": None},
    )
    assert policy == RetryPolicy(
        max_retries=0, min_backoff=500, max_backoff=60_000, retry_for_ms=600_000
    )


@pytest.mark.parametrize(
    "overrides",
    [
        {"max_retries": -1},
        {"max_retries": 500},
        {"min_backoff": 0},
        {"min_backoff": 90_000},  # above max_backoff
        {"max_backoff": 7 * 86_400_000},  # Dramatiq's default: a week
        {"retry_for_ms": 30 * 86_400_000},
    ],
)
def test_policies_sized_in_days_are_refused(overrides: dict[str, int]) -> None:
    with pytest.raises(RetryPolicyError):
        policy_for(POLICY, overrides).check("actor x")
