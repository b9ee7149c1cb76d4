"""One-click unsubscribe for unsolicited mails (RFC 8058, with RFC 2369's List-Unsubscribe).

The link names the user and the kind and carries an HMAC of both (UNSUBSCRIBE_SECRET), so only
the mail's recipient can use it and nobody can unsubscribe someone else by guessing ids. With an
https UNSUBSCRIBE_URL, mail clients offer the one-click button: they POST
`List-Unsubscribe=One-Click` to the link (`unsubscribe.py` records it). Without one, the link is
a mailto: to the site's contact address, which RFC 8058 does not allow one-click for.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import quote, urlencode

from lineblocs_notifications.settings import NotificationSettings

TOKEN_LENGTH = 32  # characters of url-safe base64: 192 bits of the HMAC


def token(secret: str, user_id: int, kind: str) -> str:
    digest = hmac.new(secret.encode(), f"{user_id}:{kind}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:TOKEN_LENGTH]


def is_genuine(secret: str, user_id: int, kind: str, presented: str) -> bool:
    return bool(secret) and hmac.compare_digest(token(secret, user_id, kind), presented)


def link(options: NotificationSettings, *, user_id: int, kind: str, contact: str) -> str:
    secret = options.unsubscribe_secret.get_secret_value()
    signed = token(secret, user_id, kind)
    if options.unsubscribe_url:
        query = urlencode({"u": user_id, "k": kind, "t": signed})
        separator = "&" if "?" in options.unsubscribe_url else "?"
        return f"{options.unsubscribe_url}{separator}{query}"
    return f"mailto:{contact}?subject={quote(f'unsubscribe {kind} {user_id} {signed}')}"


def headers(unsubscribe_link: str) -> dict[str, str]:
    found = {"List-Unsubscribe": f"<{unsubscribe_link}>"}
    if unsubscribe_link.startswith("https://"):
        found["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return found
