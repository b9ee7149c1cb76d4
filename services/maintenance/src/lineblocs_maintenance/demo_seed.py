"""What the maintenance demo gives its jobs to do: two users who never set a password (one
with nothing, one who placed a call), and housekeeping rows past their retention."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine

from lineblocs_shared.db.uow import UnitOfWork
from lineblocs_shared.models.jobs import (
    DeadLetter,
    DeadLetterStatus,
    JobRun,
    OutboxMessage,
    ProcessedEvent,
    RunState,
)
from lineblocs_shared.models.tenants import User, Workspace
from lineblocs_shared.models.usage import Call

DemoUsers = dict[str, str]  # e-mail -> what the user has


def seed_housekeeping(engine: Engine, *, now: datetime) -> DemoUsers:
    asked = now - timedelta(days=10)
    old = now - timedelta(days=400)
    with UnitOfWork(engine) as uow:
        idle = _user(uow, "never-came-back@example.com", asked)
        caller = _user(uow, "made-one-call@example.com", asked)
        _workspace(uow, idle, "Idle Inc", now)
        _call(uow, _workspace(uow, caller, "Caller Co", now), caller, now)
        uow.session.add_all(_old_rows(old))
        uow.commit()
    return {idle.email: "a workspace, nothing else", caller.email: "a workspace with a call"}


def _user(uow: UnitOfWork, email: str, asked: datetime) -> User:
    name = email.split("@")[0]
    user = User(
        name=name,
        username=name,
        email=email,
        needs_password_set=True,
        needs_set_password_date=asked,
        free_trial_started=asked,
    )
    return uow.users.add(user=user)


def _workspace(uow: UnitOfWork, creator: User, name: str, now: datetime) -> Workspace:
    assert creator.id is not None  # added (flushed) by the repository
    space = Workspace(
        name=name, creator_id=creator.id, free_trial_started=now, default_region="ca-central-1"
    )
    return uow.workspaces.add(workspace=space)


def _call(uow: UnitOfWork, space: Workspace, user: User, now: datetime) -> None:
    assert space.id is not None  # added (flushed) by the repositories
    assert user.id is not None
    uow.session.add(
        Call(
            api_id=f"demo-call-{space.id}",
            from_="+15145550100",
            to="+14165550199",
            status="ENDED",
            direction="outbound",
            duration=60,
            user_id=user.id,
            workspace_id=space.id,
            started_at=now,
            ended_at=now,
        )
    )
    uow.session.flush()


def _old_rows(old: datetime) -> list[object]:
    """One row of each kind retention removes, a year old."""
    return [
        OutboxMessage(
            event_id="demo-old-event",
            queue_name="notifications",
            actor_name="payment_receipt",
            payload="{}",
            created_at=old,
            published_at=old,
        ),
        ProcessedEvent(consumer="notifications", event_id="demo-old-event", processed_at=old),
        # Two runs of a job: the older goes, the latest of a job always stays (catch-up).
        *(
            JobRun(
                job="billing.distribute_bills",
                run_key=f"demo-old-run-{n}",
                state=RunState.SUCCEEDED,
                created_at=old + timedelta(days=n),
                updated_at=old + timedelta(days=n),
                finished_at=old + timedelta(days=n),
            )
            for n in (0, 1)
        ),
        DeadLetter(
            message_id="demo-old-dead-letter",
            queue_name="billing",
            actor_name="bill",
            args="[]",
            kwargs="{}",
            options="{}",
            reason="replayed by an operator",
            first_seen_at=old,
            last_seen_at=old,
            status=DeadLetterStatus.REPLAYED,
            replayed_at=old,
        ),
    ]
