"""Declaring a once-per-period job: its schedule, time limit, claim lease and retries, once.

    PURGE_LOGS_JOB = PeriodicJob(
        name="maintenance.purge_logs", cron="15 3 * * *", time_limit=timedelta(minutes=30)
    )

    @periodic_actor(PURGE_LOGS_JOB, PURGE_LOGS)
    def purge_logs(payload: PurgeLogs, trigger: Trigger) -> None:
        handlers.purge_logs(bootstrap.current(), payload, trigger=trigger)

The actor gets periodiq's cron spec, the job's time limit and its retries; its message is
validated by the contract; the function receives the payload and what triggered it (a periodiq
tick or a manual message), and hands both to `PeriodicRunner` through its handler. The claim
lease outlives the time limit: a claim silent for longer belongs to a worker that died.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from typing import Any, Literal

import dramatiq
from dramatiq.middleware import CurrentMessage
from periodiq import CronSpec, cron

from lineblocs_shared.contracts import Contract, PayloadT

CatchUp = Literal["all", "latest"]
# How much longer than its time limit a RUNNING claim is trusted.
LEASE_MARGIN = timedelta(minutes=5)


def _ms(span: timedelta) -> int:
    return span // timedelta(milliseconds=1)


@dataclass(frozen=True)
class JobRetries:
    """A periodic run's retries: a few quick ones for a broker or database away for a moment,
    then a dead letter and one alert; the next tick runs the job anyway."""

    max_retries: int = 3
    min_backoff: timedelta = timedelta(seconds=5)
    max_backoff: timedelta = timedelta(minutes=1)

    def actor_options(self) -> dict[str, Any]:
        return {
            "max_retries": self.max_retries,
            "min_backoff": _ms(self.min_backoff),
            "max_backoff": _ms(self.max_backoff),
        }


@dataclass(frozen=True)
class PeriodicJob:
    """A job that runs once per cron period (spec read in UTC)."""

    name: str
    cron: str
    catch_up: CatchUp = "latest"
    time_limit: timedelta = timedelta(minutes=25)
    retries: JobRetries = field(default_factory=JobRetries)
    # A RUNNING claim silent for longer than this is taken over; default: time limit + margin.
    lease: timedelta | None = None
    max_missed: int = 1000
    max_catch_up_age: timedelta = timedelta(days=7)

    def __post_init__(self) -> None:
        if self.lease is not None and self.lease < self.time_limit:
            raise ValueError(f"{self.name}: a lease shorter than the time limit lets two run")

    @property
    def claim_lease(self) -> timedelta:
        return self.lease if self.lease is not None else self.time_limit + LEASE_MARGIN

    @cached_property
    def spec(self) -> CronSpec:
        """The parsed cron spec, also what the actor passes as `periodic=`."""
        return cron(self.cron)

    def actor_options(self) -> dict[str, Any]:
        """`@dramatiq.actor` options: periodiq's schedule, the time limit, the retries."""
        return {"periodic": self.spec, "time_limit": _ms(self.time_limit)} | (
            self.retries.actor_options()
        )


@dataclass(frozen=True)
class Trigger:
    """What started a run: a periodiq tick (`scheduled_at`) or a manual message."""

    scheduled_at: str | None = None
    message_id: str | None = None

    @classmethod
    def of(cls, message: dramatiq.Message[Any] | None) -> Trigger:
        if message is None:
            return cls()
        return cls(message.options.get("scheduled_at"), message.message_id)


PeriodicRun = Callable[[PayloadT, Trigger], object]


def periodic_actor(
    job: PeriodicJob, contract: Contract[PayloadT]
) -> Callable[[PeriodicRun[PayloadT]], dramatiq.Actor[..., None]]:
    """Declare `run` as the actor of `contract`'s messages, scheduled and limited by `job`."""

    def declare(run: PeriodicRun[PayloadT]) -> dramatiq.Actor[..., None]:
        @functools.wraps(run)
        def receive(**kwargs: Any) -> None:
            payload = contract.parse(kwargs)
            run(payload, Trigger.of(CurrentMessage.get_current_message()))

        declare_actor = dramatiq.actor(
            actor_name=contract.actor, queue_name=contract.queue, **job.actor_options()
        )
        return declare_actor(receive)

    return declare
