"""An e-mail ready to send: addresses, subject, both parts, and the headers we set."""

from __future__ import annotations

from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.utils import formatdate


@dataclass(frozen=True)
class OutgoingEmail:
    sender: str
    to: str
    subject: str
    text: str
    html: str
    message_id: str  # "<…@…>", derived from the ledger row's dedupe key
    headers: dict[str, str] = field(default_factory=dict)  # List-Unsubscribe, …

    def mime(self) -> EmailMessage:
        """The multipart/alternative message: plain text first, HTML preferred by readers."""
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = self.to
        message["Subject"] = self.subject
        message["Message-ID"] = self.message_id
        message["Date"] = formatdate(usegmt=True)
        for name, value in self.headers.items():
            message[name] = value
        message.set_content(self.text)
        message.add_alternative(self.html, subtype="html")
        return message

    def wire_bytes(self) -> bytes:
        """The message as it travels: CRLF line ends. Bare LF would reach an SMTP server as one
        endless line (servers count lines by CRLF, and refuse past 998 characters)."""
        return self.mime().as_bytes(policy=policy.SMTP)
