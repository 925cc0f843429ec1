"""Satisfaction surveys: asked a while after a conversation is resolved (the workspace's
``delay_minutes``), and a sweeper for the ones whose task was lost (the rows are the truth:
a resolved conversation with neither a survey nor a reason not to ask)."""

from __future__ import annotations

from datetime import timedelta

from huey import crontab
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from filrouge.core import events
from filrouge.core.actions.surveys import offer_survey
from filrouge.core.events import DomainEvent
from filrouge.core.models import Conversation, Event, Survey, Workspace
from filrouge.core.models.enums import ConversationStatus
from filrouge.core.surveys import policy_of
from filrouge.db import transaction
from filrouge.jobs.queue import huey, task_factory, task_settings
from filrouge.lib.timeutil import utcnow

SWEEP_WINDOW = timedelta(days=1)
DECIDED = ("survey.sent", "survey.skipped")


@huey.task()
def ask_satisfaction(conversation_id: int) -> None:
    with transaction(task_factory()) as session:
        offer_survey(session, conversation_id, task_settings().public_url)


def schedule_survey(event: DomainEvent) -> None:
    conversation_id = int(event.payload["conversation_id"])
    with task_factory()() as session:
        delay = survey_delay(session, conversation_id)
    if delay is not None:
        ask_satisfaction.schedule((conversation_id,), delay=int(delay.total_seconds()))


def survey_delay(session: Session, conversation_id: int) -> timedelta | None:
    workspace = session.scalar(
        select(Workspace)
        .join(Conversation, Conversation.workspace_id == Workspace.id)
        .where(Conversation.id == conversation_id)
    )
    policy = policy_of(None if workspace is None else workspace.settings)
    return timedelta(minutes=policy.delay_minutes) if policy.enabled else None


@huey.periodic_task(crontab(minute="*/10"))
def sweep_surveys() -> int:
    """Ask about the conversations resolved in the last day whose task was lost."""
    factory = task_factory()
    with factory() as session:
        due = forgotten_resolutions(session)
    for conversation_id in due:
        with transaction(factory) as session:
            offer_survey(session, conversation_id, task_settings().public_url)
    return len(due)


def forgotten_resolutions(session: Session, limit: int = 500) -> list[int]:
    """Resolved conversations past their delay with no survey and no decision recorded."""
    now = utcnow()
    decided = exists().where(
        Event.subject_type == "conversation",
        Event.subject_id == Conversation.id,
        Event.action.in_(DECIDED),
        Event.occurred_at >= Conversation.resolved_at,
    )
    candidates = session.execute(
        select(Conversation.id, Conversation.resolved_at, Conversation.workspace_id)
        .where(
            Conversation.status == ConversationStatus.RESOLVED,
            Conversation.resolved_at > now - SWEEP_WINDOW,
            ~exists().where(Survey.conversation_id == Conversation.id),
            ~decided,
        )
        .order_by(Conversation.resolved_at)
        .limit(limit)
    ).all()
    policies = {
        w.id: policy_of(w.settings)
        for w in session.scalars(
            select(Workspace).where(Workspace.id.in_({row.workspace_id for row in candidates}))
        )
    }
    return [
        row.id
        for row in candidates
        if policies[row.workspace_id].enabled
        and row.resolved_at <= now - timedelta(minutes=policies[row.workspace_id].delay_minutes)
    ]


def install() -> None:
    """Ask for satisfaction after every resolution from now on (idempotent)."""
    events.unsubscribe("conversation.resolved", schedule_survey)
    events.subscribe("conversation.resolved", schedule_survey)
