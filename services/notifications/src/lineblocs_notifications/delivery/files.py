"""The embedded default: each mail written as an `.eml` file in a folder (refused when deployed).

`make demo` and development read what would have been sent without any mail server; the file is
named after the Message-ID, so a mail sent twice is one file.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from lineblocs_notifications.delivery.email import OutgoingEmail
from lineblocs_notifications.delivery.transport import DeliveryUnavailable


class FileTransport:
    name = "file"

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, email: OutgoingEmail) -> str:
        name = hashlib.sha256(email.message_id.encode()).hexdigest()[:32] + ".eml"
        path = self.folder / name
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(".part")
            partial.write_bytes(email.wire_bytes())
            os.replace(partial, path)  # whole or not at all
        except OSError as exc:
            raise DeliveryUnavailable(f"cannot write {path}: {exc}") from None
        return name

    def close(self) -> None:
        """Nothing held open."""
