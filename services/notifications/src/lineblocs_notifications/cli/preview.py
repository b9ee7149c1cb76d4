"""`notifications preview KIND --user ID [--workspace ID]`: a mail as it would go out, rendered
with example variables for a real user (and workspace), and sent to nobody."""

from __future__ import annotations

from pathlib import Path

import typer

from lineblocs_notifications.bootstrap import Notifications
from lineblocs_notifications.cli.common import notifications
from lineblocs_notifications.compose.render import TemplateFailed
from lineblocs_notifications.delivery.email import OutgoingEmail
from lineblocs_notifications.delivery.transport import Transport
from lineblocs_notifications.kinds.catalog import KINDS, MailRequest
from lineblocs_notifications.kinds.samples import SAMPLES
from lineblocs_notifications.ledger import message_id_of
from lineblocs_notifications.sending import Addressee, addressee_of, compose
from lineblocs_shared.errors import ConfigError
from lineblocs_shared.site_settings.reader import SiteSettings


def preview(
    kind: str = typer.Argument(..., help="one of: " + ", ".join(KINDS)),
    user: int | None = typer.Option(None, "--user", help="the recipient (a users.id)"),
    workspace: int | None = typer.Option(
        None, "--workspace", help="the workspace it is about; its creator if --user is not given"
    ),
    html: Path | None = typer.Option(None, "--html", help="also write the HTML part here"),
) -> None:
    """Render one mail without sending it: headers, then the text part."""
    if kind not in KINDS:
        raise ConfigError(f"no kind {kind!r}: one of {', '.join(KINDS)}")
    if user is None and workspace is None:
        raise ConfigError("give --user, --workspace, or both")
    request = MailRequest(
        kind=KINDS[kind],
        dedupe_key=f"{kind}:preview",
        user_id=user,
        workspace_id=workspace,
        variables=SAMPLES[kind],
    )
    with notifications() as deps:
        addressee = addressee_of(deps, request)
        if addressee.recipient is None:
            raise ConfigError(f"nobody to send it to: {addressee.why}")
        site = deps.site_settings()
        transport = deps.transports.for_site(site)
        email = _composed(deps, request, addressee, site, transport)
    for name in ("From", "To", "Subject", *email.headers):
        typer.echo(f"{name}: {email.mime()[name]}")
    typer.echo("")
    typer.echo(email.text)
    if html is not None:
        html.write_text(email.html, encoding="utf-8")
        typer.echo(f"(HTML part written to {html})", err=True)


def _composed(
    deps: Notifications,
    request: MailRequest,
    addressee: Addressee,
    site: SiteSettings,
    transport: Transport,
) -> OutgoingEmail:
    try:
        return compose(deps, request, message_id_of(request.dedupe_key), addressee, site, transport)
    except TemplateFailed as exc:
        # A workspace mail asked for a user alone: say what is missing, not a traceback.
        raise ConfigError(
            f"cannot render {request.kind.name} for that recipient ({exc}): a mail about a "
            "workspace needs --workspace ID"
        ) from None
