"""`customer_satisfaction_survey`, daily, while Lineblocs has the survey on
(`customer_satisfaction_survey_enabled` and a `customer_satisfaction_survey_url`): workspaces at
least 7 days old that were never sent it, to their creator. Once per workspace; the site's
`sent_satisfaction_survey` flag is set only when the mail was sent (`kinds/marks.py`). The mail
is unsolicited: it carries one-click unsubscribe headers (`compose/unsubscribe.py`).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, Table, select

from lineblocs_notifications.kinds.catalog import SATISFACTION_SURVEY, MailRequest
from lineblocs_notifications.schedules import SURVEY_JOB
from lineblocs_notifications.sweeps.base import Pages, Scan, Sweep
from lineblocs_shared.db.paging import keyset_pages
from lineblocs_shared.models.tenants import Workspace

WORKSPACES: Table = Workspace.__table__  # type: ignore[attr-defined]
SURVEY_AFTER = timedelta(days=7)


def unsurveyed_workspaces(engine: Engine, scan: Scan) -> Pages:
    site = scan.site
    url = site.customer_satisfaction_survey_url.strip()
    if not (site.customer_satisfaction_survey_enabled and url):
        return
    w = WORKSPACES.c
    query = select(w.id).where(
        w.created_at <= scan.now - SURVEY_AFTER, w.sent_satisfaction_survey.is_(False)
    )
    for rows in keyset_pages(engine, query, key=w.id, page_size=scan.page_size):
        yield [
            MailRequest(
                kind=SATISFACTION_SURVEY,
                dedupe_key=f"{SATISFACTION_SURVEY.name}:workspace:{row.id}",
                user_id=None,
                workspace_id=row.id,
                variables={"survey_url": url},
            )
            for row in rows
        ]


SURVEY = Sweep("survey", SURVEY_JOB, unsurveyed_workspaces)
