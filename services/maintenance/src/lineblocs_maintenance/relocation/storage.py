"""Where relocated recordings go: the `RecordingStore` port, and its folder implementation.

An object is named by a key the recording's id decides (`recordings/<id>.<ext>`), so a second
attempt writes the same object, and finds it first: `find` (a HEAD) answers with the size and
the SHA-256 we stored with it. The folder store is the embedded default (`make demo`,
development) and is refused in staging and production.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from lineblocs_maintenance.relocation.ari import Download
from lineblocs_maintenance.relocation.errors import StorageUnavailable

EXTENSIONS = {
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/wave": "wav",
    "audio/vnd.wave": "wav",
    "audio/mpeg": "mp3",
    "audio/ogg": "ogg",
    "audio/gsm": "gsm",
    "audio/x-gsm": "gsm",
    "audio/basic": "ulaw",
}


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    sha256: str  # what we stored with it; "" when the object carries none


class RecordingStore(Protocol):
    name: str

    def find(self, key: str) -> StoredObject | None:
        """The object under `key`, or None when there is none."""
        ...

    def put(self, key: str, body: BinaryIO, download: Download) -> None:
        """Store `body` (at offset 0) under `key`, whole or not at all."""
        ...

    def url_of(self, key: str) -> str:
        """What `recordings.s3_url` records for the object."""
        ...

    def check(self) -> None:
        """Raise when the store cannot be written (before a sweep queues anything)."""
        ...


def object_key(recording_id: int, content_type: str) -> str:
    return f"recordings/{recording_id}.{EXTENSIONS.get(content_type, 'bin')}"


class FolderStore:
    """Objects as files under a folder, each with a `.meta.json` beside it."""

    name = "local"

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def find(self, key: str) -> StoredObject | None:
        path, meta = self._paths(key)
        try:
            stored = json.loads(meta.read_text())
            size = path.stat().st_size
        except (OSError, ValueError):
            return None  # no object, or one whose meta was never written: not finished
        return StoredObject(key, size, str(stored.get("sha256", "")))

    def put(self, key: str, body: BinaryIO, download: Download) -> None:
        path, meta = self._paths(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(path.name + ".part")
            with partial.open("wb") as out:
                shutil.copyfileobj(body, out)
            os.replace(partial, path)
            # The meta last: `find` takes an object without one for one never finished.
            meta.with_name(meta.name + ".part").write_text(
                json.dumps({"sha256": download.sha256, "content_type": download.content_type})
            )
            os.replace(meta.with_name(meta.name + ".part"), meta)
        except OSError as exc:
            raise StorageUnavailable(f"cannot write {path}: {exc}") from None

    def url_of(self, key: str) -> str:
        return self._paths(key)[0].resolve().as_uri()

    def check(self) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageUnavailable(f"cannot create {self.folder}: {exc}") from None

    def _paths(self, key: str) -> tuple[Path, Path]:
        path = self.folder / key
        return path, path.with_name(path.name + ".meta.json")
