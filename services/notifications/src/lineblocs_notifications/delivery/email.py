"""An e-mail ready to send: addresses, subject, both parts, and the headers we set.

Built with the `email` package's classic MIME classes (`compat32`): the modern `EmailMessage`
API re-parses every header through its header registry, which cost 7 ms a mail — more than the
rest of a send together. Non-ASCII headers are RFC 2047-encoded, bodies quoted-printable UTF-8,
lines folded within SMTP's limits, CRLF line ends.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from email import charset, policy
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formatdate

UTF8_QP = charset.Charset("utf-8")
UTF8_QP.body_encoding = charset.QP  # readable in transit, and never a line past 76 characters
# Headers are not folded below SMTP's 998: a folded List-Unsubscribe URL starts a line of its
# own, which some mail clients then fail to read. Non-ASCII ones fold by RFC 2047 anyway.
WIRE = policy.compat32.clone(linesep="\r\n", max_line_length=998)


@dataclass(frozen=True)
class OutgoingEmail:
    sender: str
    to: str
    subject: str
    text: str
    html: str
    message_id: str  # "<…@…>", derived from the ledger row's dedupe key
    headers: dict[str, str] = field(default_factory=dict)  # List-Unsubscribe, …

    def mime(self) -> Message:
        """The multipart/alternative message: plain text first, HTML preferred by readers."""
        message = MIMEMultipart("alternative")
        for name, value in (
            ("From", self.sender),
            ("To", self.to),
            ("Subject", self.subject),
            ("Message-ID", self.message_id),
            ("Date", formatdate(usegmt=True)),
            *self.headers.items(),
        ):
            # A Header object, folded by the generator knowing the header's name (typeshed
            # types the value as str only).
            message[name] = value if value.isascii() else Header(value, "utf-8")  # type: ignore[assignment]
        message.attach(MIMEText(self.text, "plain", UTF8_QP))  # type: ignore[arg-type]
        message.attach(MIMEText(self.html, "html", UTF8_QP))  # type: ignore[arg-type]
        return message

    def wire_bytes(self) -> bytes:
        """The message as it travels: CRLF line ends. Bare LF would reach an SMTP server as one
        endless line (servers count lines by CRLF, and refuse past 998 characters)."""
        return self.mime().as_bytes(policy=WIRE)
