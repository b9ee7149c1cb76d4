"""How a relocation fails, and what each failure means for the recording.

`RecordingUnusable` and its kinds are about one recording: the recording is marked (missing or
failed) so no sweep queues it again, and its message is dead-lettered with one alert. Failures
of the deployment (settings missing, credentials refused) are plain fatal errors: the recording
stays as it was and is relocated once an operator fixes the cause.
"""

from __future__ import annotations

from lineblocs_shared.reliability.failures.taxonomy import FatalError, TransientError


class RecordingUnusable(FatalError):
    """This recording cannot be relocated; `state` is what it is marked with."""

    state = "failed"


class BadRecording(RecordingUnusable):
    """The row's storage_id cannot name a stored recording (empty, garbled)."""


class UnknownMediaServer(RecordingUnusable):
    """The row's storage_server_ip is not a media server we may ask (ARI_HOSTS)."""


class RecordingMissing(RecordingUnusable):
    """The media server has no such stored recording, and it was never relocated."""

    state = "missing"


class RelocationAbandoned(RecordingUnusable):
    """No success within RECORDING_RELOCATION_MAX_ATTEMPTS attempts."""


class AriNotFound(Exception):
    """ARI answered 404; the handler decides whether that means missing or already deleted."""


class StorageRefused(FatalError):
    """Object storage refused us (credentials, permissions, no such bucket)."""


class StorageUnavailable(TransientError):
    """Object storage is away or failing for now (5xx, timeouts, a short or altered object)."""
