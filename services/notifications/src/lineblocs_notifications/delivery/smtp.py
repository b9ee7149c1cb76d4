"""SMTP with the site's settings: STARTTLS (`smtp_tls` = tls), implicit TLS (ssl) or none, AUTH.

One connection per worker thread, kept between mails: opening one (TCP, TLS, AUTH) costs more
than a mail. A kept connection the server has closed meanwhile is opened again once, at once.
The provider's id of a mail is the server's answer to its DATA ("2.0.0 Ok: queued as …").
"""

from __future__ import annotations

import smtplib
import socket
import ssl
import threading
from collections.abc import Callable

from lineblocs_notifications.delivery.email import OutgoingEmail
from lineblocs_notifications.delivery.transport import (
    DeliveryMisconfigured,
    DeliveryUnavailable,
    MailRefused,
)
from lineblocs_shared.site_settings.values import SmtpEncryption, SmtpSettings

MAX_PROVIDER_ID = 191


class SmtpTransport:
    name = "smtp"

    def __init__(
        self, settings: SmtpSettings, *, timeout_s: float, tls: ssl.SSLContext | None = None
    ) -> None:
        self._settings = settings
        self._timeout_s = timeout_s
        self._tls = tls or ssl.create_default_context()
        self._local = threading.local()

    def send(self, email: OutgoingEmail) -> str:
        try:
            return self._on_connection(lambda smtp: _deliver(smtp, email))
        except DeliveryMisconfigured:
            raise
        except smtplib.SMTPNotSupportedError as exc:
            raise DeliveryMisconfigured(f"the SMTP server {self._where}: {exc}") from None
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryMisconfigured(
                f"the SMTP server {self._where} refused the login of {self._settings.user!r} "
                f"({exc.smtp_code})"
            ) from None
        except (ssl.SSLError, ssl.CertificateError) as exc:
            raise DeliveryMisconfigured(
                f"TLS with the SMTP server {self._where} failed: {exc}"
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise _classified(exc, self._where) from None

    def close(self) -> None:
        smtp = getattr(self._local, "smtp", None)
        self._local.smtp = None
        if smtp is not None:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()

    @property
    def _where(self) -> str:
        return f"{self._settings.host}:{self._settings.port}"

    def _on_connection(self, work: Callable[[smtplib.SMTP], str]) -> str:
        kept = getattr(self._local, "smtp", None)
        if kept is not None:
            try:
                return work(kept)
            except smtplib.SMTPServerDisconnected:
                self._local.smtp = None  # closed while idle: one fresh connection, at once
        smtp = self._connect()
        self._local.smtp = smtp
        try:
            return work(smtp)
        except (smtplib.SMTPServerDisconnected, OSError):
            self._local.smtp = None
            raise

    def _connect(self) -> smtplib.SMTP:
        settings, timeout = self._settings, self._timeout_s
        if settings.encryption is SmtpEncryption.SSL:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=timeout, context=self._tls
            )
        else:
            smtp = smtplib.SMTP(settings.host, settings.port, timeout=timeout)
        try:
            self._secure_and_login(smtp)
        except BaseException:
            smtp.close()  # a half-opened session is never kept, nor left open
            raise
        return smtp

    def _secure_and_login(self, smtp: smtplib.SMTP) -> None:
        settings = self._settings
        if settings.encryption is SmtpEncryption.TLS:
            smtp.starttls(context=self._tls)
        if not settings.user:
            return
        smtp.ehlo_or_helo_if_needed()
        if not smtp.has_extn("auth"):
            raise DeliveryMisconfigured(
                f"the SMTP server {self._where} offers no AUTH for the configured user "
                f"(smtp_tls is {settings.encryption.value!r}; servers often offer it only over TLS)"
            )
        smtp.login(settings.user, settings.password)


def _deliver(smtp: smtplib.SMTP, email: OutgoingEmail) -> str:
    """MAIL, RCPT, DATA by hand: `send_message` keeps the server's answer to DATA to itself."""
    smtp.ehlo_or_helo_if_needed()
    code, answer = smtp.mail(email.sender)
    if code != 250:
        smtp.rset()
        raise smtplib.SMTPSenderRefused(code, answer, email.sender)
    code, answer = smtp.rcpt(email.to)
    if code not in (250, 251):
        smtp.rset()
        raise smtplib.SMTPRecipientsRefused({email.to: (code, answer)})
    code, answer = smtp.data(email.wire_bytes())
    if code != 250:
        smtp.rset()
        raise smtplib.SMTPDataError(code, answer)
    return answer.decode("utf-8", errors="replace")[:MAX_PROVIDER_ID]


def _classified(exc: BaseException, where: str) -> Exception:
    """SMTP 5xx about the recipient or the message: refused; 4xx, 421 and lost connections:
    transient; 5xx about our sender: misconfigured."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        [(code, answer)] = exc.recipients.values()
        return _by_code(code, answer, where, refused=MailRefused(f"{code} {answer!r}"))
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return _by_code(
            exc.smtp_code,
            exc.smtp_error,
            where,
            refused=DeliveryMisconfigured(
                f"the SMTP server {where} refused our sender {exc.sender!r}: {exc.smtp_code}"
            ),
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        refused = MailRefused(f"{exc.smtp_code} {exc.smtp_error!r}")
        return _by_code(exc.smtp_code, exc.smtp_error, where, refused=refused)
    if isinstance(exc, socket.gaierror):
        return DeliveryMisconfigured(f"the SMTP host {where} does not resolve: {exc}")
    return DeliveryUnavailable(f"SMTP server {where}: {type(exc).__name__}: {exc}")


def _by_code(code: int, answer: bytes | str, where: str, *, refused: Exception) -> Exception:
    if 400 <= code < 500:
        return DeliveryUnavailable(f"SMTP server {where} answered {code} {answer!r}: try again")
    return refused
