"""Sending one mail exactly once, top to bottom: claim, find the recipient, render, deliver,
record.

1. Claim the mail in the ledger (committed before anything else): a mail sent or settled before
   ends here.
2. The recipient, read now: nobody (a deleted user or workspace, no address) → SKIPPED; the
   mail's category muted → SUPPRESSED.
3. Render (a template error is fatal) and hand the mail to the transport: accepted → SENT; the
   address refused → FAILED, no retry.
Any failure before the transport accepted the mail releases the claim (the message is retried,
or dead-lettered and replayed later); after it, the claim is left to its lease (`ledger.py`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from lineblocs_notifications.bootstrap import Notifications
from lineblocs_notifications.compose import unsubscribe
from lineblocs_notifications.compose.render import render
from lineblocs_notifications.delivery.email import OutgoingEmail
from lineblocs_notifications.delivery.transport import MailRefused, Transport
from lineblocs_notifications.kinds.catalog import MailRequest
from lineblocs_notifications.ledger import Claim
from lineblocs_notifications.recipients import Recipient, WorkspaceInfo, read_user, read_workspace
from lineblocs_shared.db.probe import probe_schema
from lineblocs_shared.models.notifications import NotificationState
from lineblocs_shared.site_settings.reader import SiteSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Addressee:
    """Who the mail is for (None: nobody, and `why`), and the workspace it is about."""

    recipient: Recipient | None
    workspace: WorkspaceInfo | None
    why: str = ""


def send_once(deps: Notifications, request: MailRequest) -> NotificationState:
    claimed = deps.ledger.claim(request)
    if isinstance(claimed, NotificationState):
        log.info("%s: already %s, nothing sent", request.dedupe_key, claimed)
        return claimed
    try:
        addressee = addressee_of(deps, request)
        settled = _settle_unsent(deps, request, claimed, addressee)
        if settled is not None:
            return settled
        site = deps.site_settings()
        transport = deps.transports.for_site(site)
        email = compose(deps, request, claimed.message_id, addressee, site, transport)
    except BaseException as exc:  # a time limit too: release, so a retry need not wait
        deps.ledger.release(claimed, f"{type(exc).__name__}: {exc}")
        raise
    return _deliver(deps, request, claimed, email, transport)


def _settle_unsent(
    deps: Notifications, request: MailRequest, claim: Claim, addressee: Addressee
) -> NotificationState | None:
    """SKIPPED (nobody to send to) or SUPPRESSED (a muted category), or None: send it."""
    recipient = addressee.recipient
    if recipient is None:
        deps.ledger.finish(claim, request, NotificationState.SKIPPED, last_error=addressee.why)
        log.info("%s: skipped (%s)", request.dedupe_key, addressee.why)
        return NotificationState.SKIPPED
    if request.kind.category in recipient.muted:
        deps.ledger.finish(claim, request, NotificationState.SUPPRESSED, recipient=recipient.email)
        return NotificationState.SUPPRESSED
    if request.kind.unsolicited and deps.optouts.has(recipient.user_id, request.kind.name):
        suppressed = {"recipient": recipient.email, "last_error": "unsubscribed"}
        deps.ledger.finish(claim, request, NotificationState.SUPPRESSED, **suppressed)
        return NotificationState.SUPPRESSED
    return None


def _deliver(
    deps: Notifications,
    request: MailRequest,
    claim: Claim,
    email: OutgoingEmail,
    transport: Transport,
) -> NotificationState:
    sent = {"recipient": email.to, "subject": email.subject, "provider": transport.name}
    try:
        provider_id = transport.send(email)
    except MailRefused as exc:
        deps.ledger.finish(claim, request, NotificationState.FAILED, last_error=str(exc), **sent)
        log.warning("%s: the provider refused the mail: %s", request.dedupe_key, exc)
        return NotificationState.FAILED
    except BaseException as exc:
        deps.ledger.release(claim, f"{type(exc).__name__}: {exc}")
        raise
    # Accepted: from here on the claim is never released (a retry would send it again).
    deps.ledger.finish(claim, request, NotificationState.SENT, provider_id=provider_id, **sent)
    log.info("%s: sent to user %s (%s)", request.dedupe_key, request.user_id, provider_id)
    return NotificationState.SENT


def addressee_of(deps: Notifications, request: MailRequest) -> Addressee:
    """The user the mail is for (the workspace's creator when the request names none)."""
    # Probed (once per engine) before our connection begins: on SQLite every transaction
    # takes the write lock, and the probe's own connection would wait for ours.
    probe_schema(deps.engine)
    with deps.engine.connect() as conn:
        workspace = None
        if request.workspace_id is not None:
            workspace = read_workspace(conn, request.workspace_id)
            if workspace is None:
                return Addressee(None, None, f"workspace {request.workspace_id} does not exist")
        user_id = request.user_id
        if user_id is None and workspace is not None:
            user_id = workspace.creator_id
        if user_id is None:
            return Addressee(None, workspace, "no recipient")
        recipient = read_user(conn, deps.engine, user_id)
    if recipient is None:
        return Addressee(None, workspace, f"user {user_id} does not exist or has no address")
    return Addressee(recipient, workspace)


def compose(
    deps: Notifications,
    request: MailRequest,
    message_id: str,
    addressee: Addressee,
    site: SiteSettings,
    transport: Transport,
) -> OutgoingEmail:
    recipient = addressee.recipient
    assert recipient is not None
    sender = sender_of(deps, site, transport)
    variables: dict[str, Any] = {
        **request.variables,
        "user": recipient.variables(),
        "workspace": addressee.workspace.variables() if addressee.workspace else {},
        "site_name": deps.options.site_name,
    }
    headers: dict[str, str] = {}
    if request.kind.unsolicited:
        contact = site.contact_email if "@" in site.contact_email else sender
        link = unsubscribe.link(
            deps.options, user_id=recipient.user_id, kind=request.kind.name, contact=contact
        )
        variables["unsubscribe_url"] = link
        headers = unsubscribe.headers(link)
    rendered = render(request.kind, variables)
    return OutgoingEmail(
        sender=sender,
        to=recipient.email,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        message_id=message_id,
        headers=headers,
    )


def sender_of(deps: Notifications, site: SiteSettings, transport: Transport) -> str:
    """MAIL_FROM; else the SMTP user (the site sends as it); else the contact address."""
    if deps.options.mail_from:
        return deps.options.mail_from
    if transport.name == "smtp" and "@" in site.smtp.user:
        return site.smtp.user
    if "@" in site.contact_email:
        return site.contact_email
    if transport.name == "mailgun":
        return f"no-reply@{site.mailgun.domain}"
    return f"no-reply@{deps.options.site_name.lower().replace(' ', '')}.invalid"
