"""Which transport a mail goes through: Lineblocs' `mail_provider`, unless overridden.

`smtp-gateway` (the site's default) is SMTP with the `smtp_*` settings, `mailgun` is Mailgun's
HTTP API; MAIL_TRANSPORT_OVERRIDE picks one (or `file`, the embedded default) whatever the site
says. A transport is kept while its settings do not change: SMTP keeps one connection per worker
thread, Mailgun one HTTP client; an admin's change is seen within LINEBLOCS_SETTINGS_TTL_S.
"""

from __future__ import annotations

import ssl
import threading
from typing import Any

from lineblocs_notifications.delivery.files import FileTransport
from lineblocs_notifications.delivery.guard import GuardedTransport
from lineblocs_notifications.delivery.mailgun import MailgunTransport
from lineblocs_notifications.delivery.smtp import SmtpTransport
from lineblocs_notifications.delivery.transport import Transport
from lineblocs_notifications.settings import NotificationSettings
from lineblocs_shared.errors import ConfigError
from lineblocs_shared.settings import Settings
from lineblocs_shared.site_settings.reader import SiteSettings

SITE_PROVIDERS = {"smtp-gateway": "smtp", "smtp": "smtp", "mailgun": "mailgun"}


def transport_name(site: SiteSettings, options: NotificationSettings, settings: Settings) -> str:
    """The override; else `file` on the embedded defaults; else Lineblocs' `mail_provider`."""
    name = options.mail_transport_override or ("file" if settings.uses_embedded_broker else "")
    if name == "file" and settings.environment.is_deployed:
        raise ConfigError(f"the file transport writes no mail: refused in {settings.environment}")
    if name:
        return name
    provider = site.mail_provider
    if provider not in SITE_PROVIDERS:
        raise ConfigError(
            f"mail_provider {provider!r} is not one we send with (smtp-gateway, mailgun)"
        )
    return SITE_PROVIDERS[provider]


class TransportProvider:
    """The transport for the current settings, built once per settings."""

    def __init__(self, options: NotificationSettings, settings: Settings) -> None:
        self._options = options
        self._settings = settings
        self._lock = threading.Lock()
        self._built: tuple[Any, Transport] | None = None

    def for_site(self, site: SiteSettings) -> Transport:
        name = transport_name(site, self._options, self._settings)
        config = self._config(name, site)
        with self._lock:
            if self._built is None or self._built[0] != (name, config):
                self._close_built()
                self._built = ((name, config), self._build(name, config))
            return self._built[1]

    def close(self) -> None:
        with self._lock:
            self._close_built()

    def _config(self, name: str, site: SiteSettings) -> Any:
        if name == "smtp":
            return site.smtp
        if name == "mailgun":
            return site.mailgun
        return self._options.mail_file_dir

    def _build(self, name: str, config: Any) -> Transport:
        options = self._options
        if name == "file":
            return FileTransport(config)
        transport: Transport
        if name == "smtp":
            transport = SmtpTransport(config, timeout_s=options.mail_timeout_s, tls=self._tls())
        else:
            transport = MailgunTransport(
                config, api_base=options.mailgun_api_base, timeout_s=options.mail_timeout_s
            )
        rate = options.smtp_rate_limit if name == "smtp" else options.mailgun_rate_limit
        return GuardedTransport(
            transport,
            rate=rate,
            failures=options.mail_breaker_failures,
            reset_s=options.mail_breaker_reset_s,
        )

    def _tls(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if self._options.mail_tls_ca_file:
            context.load_verify_locations(self._options.mail_tls_ca_file)
        return context

    def _close_built(self) -> None:
        if self._built is not None:
            self._built[1].close()
            self._built = None
