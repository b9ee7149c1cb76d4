"""Dramatiq actors of the notifications service: thin, they validate the message and call a
handler. Billing's events arrive through its outbox; their `event_id` option names the event.

`@dramatiq.actor` binds to the global broker at import: `lineblocs_notifications.worker` (or
the demo) installs the broker and the composition root before importing this module.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import dramatiq
from dramatiq.middleware import CurrentMessage

from lineblocs_notifications import bootstrap, handlers
from lineblocs_notifications.schedules import SEND_NOTIFICATION, SWEEP_CONTRACTS, SweepTick
from lineblocs_notifications.sweeps.base import Sweep
from lineblocs_notifications.sweeps.catalog import SWEEPS
from lineblocs_shared.contracts import PAYMENT_FAILED, PAYMENT_RECEIPT, WORKSPACE_SUSPENDED
from lineblocs_shared.queue.bulk import bulk_publisher_for
from lineblocs_shared.reliability.outbox.writer import EVENT_ID_OPTION
from lineblocs_shared.reliability.periodic.jobs import Trigger, periodic_actor

# One mail: a render and one delivery of at most MAIL_TIMEOUT_S.
MAIL_TIME_LIMIT = timedelta(minutes=2)
# A mail server or API away: retried for up to 6 hours, 30 s first, at most 15 min apart
# (`ledger.IN_FLIGHT` must outlast this).
MAIL_RETRIES: dict[str, Any] = {
    "max_retries": 40,
    "min_backoff": 30_000,
    "max_backoff": 15 * 60_000,
    "retry_for_ms": 6 * 60 * 60_000,
    "time_limit": MAIL_TIME_LIMIT // timedelta(milliseconds=1),
}


def _ids() -> tuple[str, str]:
    """(event id, message id) of the message being processed."""
    message = CurrentMessage.get_current_message()
    assert message is not None  # CurrentMessage is in every broker of ours
    return str(message.options.get(EVENT_ID_OPTION) or message.message_id), message.message_id


@dramatiq.actor(actor_name=PAYMENT_FAILED.actor, queue_name=PAYMENT_FAILED.queue, **MAIL_RETRIES)
def payment_failed(**kwargs: Any) -> None:
    event = PAYMENT_FAILED.parse(kwargs)
    event_id, message_id = _ids()
    handlers.payment_failed(bootstrap.current(), event, event_id=event_id, message_id=message_id)


@dramatiq.actor(actor_name=PAYMENT_RECEIPT.actor, queue_name=PAYMENT_RECEIPT.queue, **MAIL_RETRIES)
def payment_receipt(**kwargs: Any) -> None:
    event = PAYMENT_RECEIPT.parse(kwargs)
    handlers.payment_receipt(bootstrap.current(), event, message_id=_ids()[1])


@dramatiq.actor(
    actor_name=WORKSPACE_SUSPENDED.actor, queue_name=WORKSPACE_SUSPENDED.queue, **MAIL_RETRIES
)
def workspace_suspended(**kwargs: Any) -> None:
    event = WORKSPACE_SUSPENDED.parse(kwargs)
    handlers.workspace_suspended(bootstrap.current(), event, message_id=_ids()[1])


@dramatiq.actor(
    actor_name=SEND_NOTIFICATION.actor, queue_name=SEND_NOTIFICATION.queue, **MAIL_RETRIES
)
def send_notification(**kwargs: Any) -> None:
    payload = SEND_NOTIFICATION.parse(kwargs)
    handlers.send_notification(bootstrap.current(), payload, message_id=_ids()[1])


def _sweep_actor(sweep: Sweep) -> dramatiq.Actor[..., None]:
    @periodic_actor(sweep.job, SWEEP_CONTRACTS[sweep.job.name])
    def run(_payload: SweepTick, trigger: Trigger) -> None:
        deps = bootstrap.current()
        publisher = bulk_publisher_for(deps.settings, dramatiq.get_broker())
        handlers.sweep(deps, sweep, publisher, trigger=trigger)

    return run


SWEEP_ACTORS = tuple(_sweep_actor(sweep) for sweep in SWEEPS.values())
NOTIFICATION_ACTORS = (
    payment_failed,
    payment_receipt,
    workspace_suspended,
    send_notification,
    *SWEEP_ACTORS,
)
