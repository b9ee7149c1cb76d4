"""The notification ledger: claim a mail before sending it, record how it ended.

`claim` inserts the mail's row (state `sending`, a lease) and commits it before anything is
sent; the unique `dedupe_key` makes the database decide between two deliveries. A row that
already exists is taken over only when it is `pending` (a transient failure released it) or its
lease ran out (the delivery holding it died); a row another delivery holds raises `Busy`
(transient: the message comes back after its backoff); a finished row is returned as it is.

The one duplicate this allows: a delivery killed after the provider accepted the mail and before
`finish` committed leaves the row `sending`; once its lease runs out, a redelivery sends again —
with the same Message-ID, which mail systems use to drop duplicates. Never more than that one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, Table, bindparam, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from lineblocs_notifications import metrics
from lineblocs_notifications.kinds.catalog import MailRequest
from lineblocs_shared.clock import Clock
from lineblocs_shared.db.types import whole_seconds
from lineblocs_shared.models.notifications import FINAL_STATES, Notification, NotificationState
from lineblocs_shared.reliability.failures.taxonomy import ExpectedContention

NOTIFICATIONS: Table = Notification.__table__  # type: ignore[attr-defined]
MESSAGE_ID_DOMAIN = "notifications.lineblocs-jobs"
# How long a mail not settled yet may still have a message of its own coming back: the actors'
# retry budget (`actors.MAIL_RETRIES`, 6 h) and a lease.
IN_FLIGHT = timedelta(hours=7)
# Built once: building a statement for every mail cost more CPU than running it. An UPDATE's
# SET clause is the parameters' other keys.
INSERT_ROW = insert(NOTIFICATIONS)
UPDATE_ROW = update(NOTIFICATIONS).where(NOTIFICATIONS.c.id == bindparam("row_id"))
ERROR_LIMIT = 2000


class Busy(ExpectedContention):
    """Another delivery is sending this mail now: try again once its lease may have run out."""


@dataclass(frozen=True)
class Claim:
    id: int
    attempts: int
    message_id: str


def message_id_of(dedupe_key: str) -> str:
    """The RFC 5322 Message-ID of a mail: the same for every attempt to send it, so a reader's
    mail client shows a resent mail once. 128 bits keep the header on one 78-column line."""
    return f"<{hashlib.sha256(dedupe_key.encode()).hexdigest()[:32]}@{MESSAGE_ID_DOMAIN}>"


class Ledger:
    def __init__(self, engine: Engine, clock: Clock, *, lease: timedelta) -> None:
        self._engine = engine
        self._clock = clock
        self._lease = lease

    def claim(self, request: MailRequest) -> Claim | NotificationState:
        """The mail is ours to send (a `Claim`), or the final state it already has."""
        now = self._now()
        try:
            return self._insert(request, now)
        except IntegrityError:
            pass  # written before: a redelivery, a second scheduler, a replay
        if self._take_over(request.dedupe_key, now):
            return self._claim_of(request.dedupe_key)
        state = self._state_of(request.dedupe_key)
        if state in FINAL_STATES:
            return state
        raise Busy(f"{request.dedupe_key} is being sent by another delivery")

    def finish(
        self, claim: Claim, request: MailRequest, state: NotificationState, **columns: Any
    ) -> None:
        """The mail's final state, with what is known of it (recipient, subject, provider…),
        and the kind's mark on the site's tables in the same transaction."""
        now = self._now()
        values = {"state": state.value, "lease_until": None, "updated_at": now, **columns}
        if state is NotificationState.SENT:
            values["sent_at"] = now
        if values.get("last_error"):
            values["last_error"] = str(values["last_error"])[:ERROR_LIMIT]
        mark = request.kind.mark if state in request.kind.marked_when else None
        with self._engine.begin() as conn:
            conn.execute(UPDATE_ROW, {"row_id": claim.id, **values})
            if mark is not None:
                mark(conn, request, now)
        metrics.count_mail(request.kind.name, state.value)

    def known(self, keys: Sequence[str], now: datetime) -> set[str]:
        """Which of `keys` a sweep must not send again: settled, or tried within IN_FLIGHT (a
        message of theirs may still be coming back). A mail untouched for longer is sent again
        by the next sweep: its message was dead-lettered or lost."""
        if not keys:
            return set()
        t = NOTIFICATIONS.c
        final = [state.value for state in FINAL_STATES]
        stmt = select(t.dedupe_key).where(
            t.dedupe_key.in_(keys), or_(t.state.in_(final), t.updated_at >= now - IN_FLIGHT)
        )
        with self._engine.connect() as conn:
            return set(conn.execute(stmt).scalars())

    def release(self, claim: Claim, error: str) -> None:
        """Not sent, to be tried again (transient trouble, or a fatal one an operator fixes)."""
        self._update(
            claim.id,
            state=NotificationState.PENDING.value,
            lease_until=None,
            last_error=error[:ERROR_LIMIT],
            updated_at=self._now(),
        )

    def _insert(self, request: MailRequest, now: datetime) -> Claim:
        key, message_id = request.dedupe_key, message_id_of(request.dedupe_key)
        row = {
            "kind": request.kind.name,
            "dedupe_key": key,
            "message_id": message_id,
            "state": NotificationState.SENDING.value,
            "user_id": request.user_id,
            "workspace_id": request.workspace_id,
            "context": json.dumps(request.variables, sort_keys=True, default=str),
            "attempts": 1,
            "source_message_id": request.source_message_id,
            "resend_of": request.resend_of,
            "lease_until": now + self._lease,
            "created_at": now,
            "updated_at": now,
        }
        with self._engine.begin() as conn:
            result = conn.execute(INSERT_ROW, row)
        assert result.inserted_primary_key is not None
        return Claim(int(result.inserted_primary_key[0]), 1, message_id)

    def _take_over(self, key: str, now: datetime) -> bool:
        t = NOTIFICATIONS.c
        released = t.state == NotificationState.PENDING.value
        abandoned = (t.state == NotificationState.SENDING.value) & (t.lease_until < now)
        stmt = (
            update(NOTIFICATIONS)
            .where(t.dedupe_key == key, released | abandoned)
            .values(
                state=NotificationState.SENDING.value,
                attempts=t.attempts + 1,
                lease_until=now + self._lease,
                updated_at=now,
            )
        )
        with self._engine.begin() as conn:
            return conn.execute(stmt).rowcount == 1

    def _claim_of(self, key: str) -> Claim:
        t = NOTIFICATIONS.c
        with self._engine.connect() as conn:
            row = conn.execute(
                select(t.id, t.attempts, t.message_id).where(t.dedupe_key == key)
            ).one()
        return Claim(int(row.id), int(row.attempts), row.message_id)

    def _state_of(self, key: str) -> NotificationState:
        t = NOTIFICATIONS.c
        with self._engine.connect() as conn:
            state = conn.execute(select(t.state).where(t.dedupe_key == key)).scalar_one()
        return NotificationState(state)

    def _update(self, row_id: int, **values: Any) -> None:
        with self._engine.begin() as conn:
            conn.execute(UPDATE_ROW, {"row_id": row_id, **values})

    def _now(self) -> datetime:
        return whole_seconds(self._clock.now())
