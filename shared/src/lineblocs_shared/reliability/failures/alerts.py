"""One alert per dead letter: the real one goes to Sentry, the fake one remembers."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Protocol

import sentry_sdk

from lineblocs_shared.models.jobs import DeadLetter


class Alerter(Protocol):
    def alert(self, letter: DeadLetter, exception: BaseException | None) -> str | None:
        """Send one alert for a dead letter; returns its id, or None when nothing was sent."""
        ...


def alert_tags(letter: DeadLetter) -> dict[str, str]:
    return {
        "actor": letter.actor_name,
        "queue": letter.queue_name,
        "reason": letter.reason,
        "message_id": letter.message_id,
        "dead_letter_id": str(letter.id) if letter.id is not None else "unrecorded",
    }


class SentryAlerter:
    """A Sentry event tagged with actor, queue, reason, message id and dead-letter id.

    A no-op (returns None) when Sentry is not initialised. Events of one actor, reason and
    exception class group into one Sentry issue.
    """

    def alert(self, letter: DeadLetter, exception: BaseException | None) -> str | None:
        scope: dict[str, Any] = {
            "tags": alert_tags(letter),
            "extras": {
                "attempts": letter.attempts,
                "args": letter.args,
                "kwargs": letter.kwargs,
                "first_seen_at": letter.first_seen_at.isoformat(),
                "last_seen_at": letter.last_seen_at.isoformat(),
                "exception": f"{letter.exception_class}: {letter.exception_text}",
            },
            "fingerprint": [
                "dead-letter",
                letter.actor_name,
                letter.reason,
                letter.exception_class or "-",
            ],
            "level": "error",
        }
        if exception is not None:
            return sentry_sdk.capture_exception(exception, **scope)
        event = {
            "logger": "lineblocs_shared.dead_letters",
            "message": f"dead letter: {letter.actor_name} on {letter.queue_name} "
            f"({letter.reason}): {letter.exception_class or 'no exception'}",
        }
        return sentry_sdk.capture_event(event, **scope)  # type: ignore[arg-type]


@dataclass(frozen=True)
class SentAlert:
    letter: DeadLetter
    exception: BaseException | None


class RecordingAlerter:
    """The fake: keeps every alert it was asked to send."""

    def __init__(self) -> None:
        self.sent: list[SentAlert] = []
        self._lock = threading.Lock()

    def alert(self, letter: DeadLetter, exception: BaseException | None) -> str | None:
        with self._lock:
            self.sent.append(SentAlert(letter=letter, exception=exception))
            return f"alert-{len(self.sent)}"
