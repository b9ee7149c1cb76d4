"""`notifications resend ID`: send a mail of the ledger again, now, as a new mail.

A resend is an operator's explicit decision (the customer lost the mail, an address was
fixed): it gets its own ledger row (`resend_of` the original), its own dedupe key and
Message-ID, goes through the same recipient and mute checks, and is logged with who asked.
"""

from __future__ import annotations

import getpass
import json
import logging

import typer

from lineblocs_notifications.cli.common import notifications
from lineblocs_notifications.kinds.catalog import KINDS, MailRequest
from lineblocs_notifications.sending import send_once
from lineblocs_shared.db.uow import LedgerUnit
from lineblocs_shared.errors import ConfigError
from lineblocs_shared.models.notifications import Notification

log = logging.getLogger(__name__)


def resend(notification_id: int = typer.Argument(..., help="id from `notifications list`")) -> None:
    """Send one mail again, as a new mail with its own ledger row."""
    with notifications() as deps:
        with LedgerUnit(deps.engine) as uow:
            original = uow.session.get(Notification, notification_id)
        if original is None:
            raise ConfigError(f"no notification {notification_id}")
        if original.kind not in KINDS:
            raise ConfigError(f"notification {notification_id} is of unknown kind {original.kind}")
        at = deps.clock.now()
        request = MailRequest(
            kind=KINDS[original.kind],
            dedupe_key=f"{original.kind}:resend:{notification_id}:{at:%Y%m%dT%H%M%S}",
            user_id=original.user_id,
            workspace_id=original.workspace_id,
            variables=json.loads(original.context or "{}"),
            resend_of=notification_id,
        )
        log.warning(
            "resend of notification %s (%s) asked by %s", notification_id, original.kind, _who()
        )
        state = send_once(deps, request)
    typer.echo(f"notification {notification_id} resent as {request.dedupe_key}: {state}")
    if state != "sent":
        raise typer.Exit(1)


def _who() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
