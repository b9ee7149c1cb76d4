"""Every kind of e-mail: its template (the site's name for it), its mute category, its subject.

A user whose `email_mute_<category>` is 0 gets no mail of that category (the ledger says
SUPPRESSED), as the site's EmailHelper decides. A kind without a category is never muted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection

from lineblocs_notifications.kinds import marks
from lineblocs_shared.models.notifications import FINAL_STATES, NotificationState


class Category(StrEnum):
    ACCOUNT_CHANGES = "account_changes"
    WORKSPACE_CHANGES = "workspace_changes"
    AUDITING = "auditing"


# A kind's mark: what it writes back to the site's tables when its mail is settled, in the
# ledger's transaction (`kinds/marks.py`); None: the ledger row is the only record.
Mark = Callable[[Connection, "MailRequest", datetime], None]


@dataclass(frozen=True)
class MailKind:
    name: str  # the template's name, and the ledger's kind
    category: Category | None
    subject: str  # a template: the mail's variables are there
    unsolicited: bool = False  # carries one-click List-Unsubscribe headers (RFC 8058)
    mark: Mark | None = None
    marked_when: frozenset[NotificationState] = FINAL_STATES


BILLING_FAILED = MailKind(
    "billing_failed", Category.ACCOUNT_CHANGES, "Your payment for {{ workspace.name }} failed"
)
PAYMENT_RECEIPT = MailKind(
    "payment_receipt", Category.ACCOUNT_CHANGES, "Receipt for {{ workspace.name }}: {{ amount }}"
)
WORKSPACE_SUSPENDED = MailKind(
    "workspace_account_suspended",
    Category.WORKSPACE_CHANGES,
    "{{ workspace.name }} has been suspended",
)
INACTIVE_USER = MailKind(
    "inactive_user",
    Category.ACCOUNT_CHANGES,
    "Account inactivity: we have not seen you on {{ site_name }} lately",
    mark=marks.reminded_of_inactivity,
)
USAGE_TRIGGER = MailKind(
    "usage_trigger",
    Category.AUDITING,
    "{{ workspace.name }}: balance down to {{ usage_trigger.percentage }}% of your last top-up",
    mark=marks.usage_trigger_result,
)
FREE_TRIAL_EXPIRING = MailKind(
    "free_trial_expiring",
    Category.ACCOUNT_CHANGES,
    "Your {{ site_name }} free trial is ending",
    mark=marks.trial_reminder_sent,
)
CARD_EXPIRING = MailKind(
    "card_expiring",
    Category.ACCOUNT_CHANGES,
    "Your card ending in {{ ending_digits }} expires soon",
)
SATISFACTION_SURVEY = MailKind(
    "customer_satisfaction_survey",
    Category.ACCOUNT_CHANGES,
    "How is {{ site_name }} working for you?",
    unsolicited=True,
    mark=marks.survey_sent,
    marked_when=frozenset({NotificationState.SENT}),  # the site's flag means "sent"
)

KINDS = {
    kind.name: kind
    for kind in (
        BILLING_FAILED,
        PAYMENT_RECEIPT,
        WORKSPACE_SUSPENDED,
        INACTIVE_USER,
        USAGE_TRIGGER,
        FREE_TRIAL_EXPIRING,
        CARD_EXPIRING,
        SATISFACTION_SURVEY,
    )
}


@dataclass(frozen=True)
class MailRequest:
    """One mail to send once: its kind, what makes it unique, to whom, with what."""

    kind: MailKind
    dedupe_key: str  # unique among every mail ever: "<kind>:<what makes it unique>"
    user_id: int | None  # the recipient; None: the workspace's creator
    workspace_id: int | None
    variables: dict[str, Any]  # JSON-able, no secret: kept on the ledger row
    source_message_id: str | None = None
    resend_of: int | None = None  # the ledger row an operator asked to send again
