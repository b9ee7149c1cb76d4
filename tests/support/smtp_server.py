"""A real SMTP server for the tests (aiosmtpd): STARTTLS or implicit TLS, AUTH, and answers on
demand (a 4xx for a while, a 550 for an address).

The certificate is made for 127.0.0.1 when the server starts; `ca_file` is what a client must
trust (MAIL_TLS_CA_FILE). Received mails are kept as received (`raw`) and parsed when a test
asks (`messages`): parsing as it receives would make the server the bottleneck of a benchmark.
"""

from __future__ import annotations

import datetime
import email
import email.policy
import ipaddress
import logging
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPProtocol
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

USER, PASSWORD = "mailer@example.test", "s3cret-pass"
# aiosmtpd warns about its own use of a deprecated attribute at every login; nothing of ours.
logging.getLogger("mail.log").addFilter(
    lambda record: "login_data is deprecated" not in record.getMessage()
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate and key for 127.0.0.1 (and localhost), valid for a day."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    names = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@dataclass
class Behaviour:
    """What the server answers besides 250: set by a test, read by the handler."""

    refuse_recipients: set[str] = field(default_factory=set)  # 550 for these addresses
    busy_for: int = 0  # answer 421 to this many DATA commands first
    logins: int = 0
    # Called with each accepted message before the server answers 250 (a test may block here).
    before_accepting: Callable[[Message], None] | None = None


class Handler:
    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.raw: list[bytes] = []
        self.lock = threading.Lock()

    async def handle_RCPT(
        self, server: Any, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address in self.behaviour.refuse_recipients:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        with self.lock:
            if self.behaviour.busy_for > 0:
                self.behaviour.busy_for -= 1
                return "421 4.3.2 try again later"
            content = bytes(envelope.content)  # type: ignore[arg-type]
            self.raw.append(content)
            queued = f"250 2.0.0 Ok: queued as Q{len(self.raw)}"
        if self.behaviour.before_accepting is not None:
            self.behaviour.before_accepting(parse(content))
        return queued


class SmtpServer:
    """A running server; `implicit_tls` for SMTPS, else plain with STARTTLS required."""

    def __init__(self, folder: Path, *, implicit_tls: bool = False) -> None:
        self.cert_file, key_file = self_signed(folder)
        self.behaviour = Behaviour()
        self.handler = Handler(self.behaviour)
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(self.cert_file, key_file)
        options: dict[str, Any] = {"authenticator": self._authenticate, "auth_require_tls": True}
        if implicit_tls:
            # The whole session is TLS, which aiosmtpd's AUTH check does not see: it only knows
            # of STARTTLS.
            options |= {"ssl_context": tls, "auth_require_tls": False}
        else:
            options |= {"tls_context": tls, "require_starttls": True}
        # aiosmtpd checks its server by connecting to the port it was given: not 0.
        self.port = free_port()
        self._controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, **options)
        self.implicit_tls = implicit_tls

    @property
    def messages(self) -> list[Message]:
        with self.handler.lock:
            raw = list(self.handler.raw)
        return [parse(content) for content in raw]

    def start(self) -> SmtpServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def _authenticate(
        self, server: SMTPProtocol, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        good = isinstance(data, LoginPassword) and (data.login, data.password) == (
            USER.encode(),
            PASSWORD.encode(),
        )
        if good:
            self.behaviour.logins += 1
        return AuthResult(success=good, handled=False)


def parse(content: bytes) -> Message:
    return email.message_from_bytes(content, policy=email.policy.default)
