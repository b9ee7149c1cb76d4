"""The notifications handlers: plain functions the actors (and the CLI) call with a validated
payload. Billing's events become one mail each; a sweep finds the mails due and sends one
`send_notification` message per mail, which `send_notification` sends once."""

from __future__ import annotations

from datetime import datetime

from lineblocs_notifications.bootstrap import Notifications
from lineblocs_notifications.kinds import billing_events
from lineblocs_notifications.kinds.catalog import KINDS, MailRequest
from lineblocs_notifications.schedules import SendNotification
from lineblocs_notifications.sending import send_once
from lineblocs_notifications.sweeps.base import MailSweepReport, Scan, Sweep, run_sweep
from lineblocs_shared.contracts import PaymentFailed, PaymentReceipt, WorkspaceSuspended
from lineblocs_shared.models.notifications import NotificationState
from lineblocs_shared.queue.bulk import MessagePublisher
from lineblocs_shared.reliability.failures.taxonomy import FatalError, TransientError
from lineblocs_shared.reliability.periodic.jobs import Trigger
from lineblocs_shared.reliability.periodic.runner import Period, PeriodicRunner


class UnknownMail(FatalError):
    """A `send_notification` message for a kind we do not have, or a key not of its kind."""


class MailSweepIncomplete(TransientError):
    """The broker refused some of a sweep's messages: the retry sweeps again (same ids)."""

    def __init__(self, report: MailSweepReport) -> None:
        super().__init__(f"{report.failed} of sweep {report.sweep}'s messages not published")
        self.report = report


def payment_failed(
    deps: Notifications, event: PaymentFailed, *, event_id: str, message_id: str
) -> NotificationState:
    request = billing_events.failed_payment(event, event_id=event_id, message_id=message_id)
    return send_once(deps, request)


def payment_receipt(
    deps: Notifications, event: PaymentReceipt, *, message_id: str
) -> NotificationState:
    with deps.engine.connect() as conn:
        request = billing_events.receipt(event, conn, message_id=message_id)
    return send_once(deps, request)


def workspace_suspended(
    deps: Notifications, event: WorkspaceSuspended, *, message_id: str
) -> NotificationState:
    with deps.engine.connect() as conn:
        request = billing_events.suspension(event, conn, message_id=message_id)
    return send_once(deps, request)


def send_notification(
    deps: Notifications, payload: SendNotification, *, message_id: str
) -> NotificationState:
    kind = KINDS.get(payload.kind)
    if kind is None or not payload.dedupe_key.startswith(f"{payload.kind}:"):
        raise UnknownMail(f"no mail of kind {payload.kind!r} with key {payload.dedupe_key!r}")
    request = MailRequest(
        kind=kind,
        dedupe_key=payload.dedupe_key,
        user_id=payload.user_id,
        workspace_id=payload.workspace_id,
        variables=payload.variables,
        source_message_id=message_id,
        resend_of=payload.resend_of,
    )
    return send_once(deps, request)


def sweep(
    deps: Notifications,
    sweep: Sweep,
    publisher: MessagePublisher,
    *,
    trigger: Trigger,
    now: datetime | None = None,
) -> MailSweepReport | None:
    """Sweep once for `trigger` (a tick, or a manual run); None when another run holds it.
    `now` (default: the clock's) is the instant the rules are applied at."""

    def one_period(_period: Period) -> MailSweepReport:
        report = run_sweep(
            sweep,
            engine=deps.engine,
            scan=scan_at(deps, now),
            known=deps.ledger.known,
            publisher=publisher,
        )
        if report.failed:
            raise MailSweepIncomplete(report)
        return report

    runner = PeriodicRunner(engine=deps.engine, clock=deps.clock)
    return runner.run_reporting(sweep.job, one_period, trigger=trigger)


def dry_run(deps: Notifications, sweep: Sweep, *, now: datetime | None = None) -> MailSweepReport:
    """What a sweep would send at `now`, found and counted; no claim, no message."""
    scan = scan_at(deps, now)
    return run_sweep(sweep, engine=deps.engine, scan=scan, known=deps.ledger.known, publisher=None)


def scan_at(deps: Notifications, now: datetime | None) -> Scan:
    return Scan(now=now or deps.clock.now(), options=deps.options, site=deps.site_settings())
