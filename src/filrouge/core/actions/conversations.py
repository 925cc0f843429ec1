"""Changing a conversation: status, priority, assignee, team, tags. Each change is an event."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from filrouge.core.audit import Actor, record_event
from filrouge.core.errors import Invalid, check_choice
from filrouge.core.events import publish_after_commit
from filrouge.core.models import Conversation, ConversationTag, Team, User
from filrouge.core.models.enums import ConversationStatus, Priority
from filrouge.core.sla import status_pauses
from filrouge.lib.timeutil import utcnow

_UNSET: Any = object()
FINISHED = (ConversationStatus.RESOLVED, ConversationStatus.CLOSED)


@dataclass
class ConversationChanges:
    status: str | None = None
    priority: str | None = None
    assignee_id: int | None = _UNSET
    team_id: int | None = _UNSET
    tags: list[str] | None = None


def update_conversation(
    session: Session, conversation: Conversation, changes: ConversationChanges, actor: Actor
) -> Conversation:
    status_before = conversation.status
    if changes.status is not None:
        _set_status(session, conversation, changes.status, actor)
    if changes.priority is not None:
        check_choice(changes.priority, Priority, "priority")
        _set_field(session, conversation, "priority", changes.priority, actor)
    if changes.assignee_id is not _UNSET:
        _check_reference(session, User, changes.assignee_id, "assignee_id")
        _set_field(session, conversation, "assignee_id", changes.assignee_id, actor)
    if changes.team_id is not _UNSET:
        _check_reference(session, Team, changes.team_id, "team_id")
        _set_field(session, conversation, "team_id", changes.team_id, actor)
    if changes.tags is not None:
        _set_tags(session, conversation, changes.tags, actor)
    publish_after_commit(
        session,
        "conversation.updated",
        conversation_id=conversation.id,
        status_changed=conversation.status != status_before,
    )
    return conversation


def _set_status(session: Session, conversation: Conversation, status: str, actor: Actor) -> None:
    check_choice(status, ConversationStatus, "status")
    if status == conversation.status:
        return
    if status == ConversationStatus.RESOLVED:
        conversation.resolved_at = utcnow()
        publish_after_commit(session, "conversation.resolved", conversation_id=conversation.id)
    if status in FINISHED and conversation.sla_target is not None:  # the SLA sweeper's turn
        conversation.sla_alert_at = utcnow()
    if ConversationStatus.PENDING in (status, conversation.status):  # the SLA clock stops
        pending = status == ConversationStatus.PENDING
        conversation.sla_pauses = status_pauses(conversation.sla_pauses, pending, utcnow())
    _set_field(session, conversation, "status", status, actor)


def _set_field(
    session: Session, conversation: Conversation, name: str, value: Any, actor: Actor
) -> None:
    before = getattr(conversation, name)
    if before == value:
        return
    setattr(conversation, name, value)
    record_event(
        session,
        conversation.workspace_id,
        actor,
        ("conversation", conversation.id),
        f"conversation.{name}_changed",
        before={name: before},
        after={name: value},
    )


def _set_tags(session: Session, conversation: Conversation, tags: list[str], actor: Actor) -> None:
    wanted = sorted({normalise_tag(tag) for tag in tags})
    before = conversation.tags
    if wanted == before:
        return
    conversation.tag_rows = [ConversationTag(tag=tag) for tag in wanted]
    record_event(
        session,
        conversation.workspace_id,
        actor,
        ("conversation", conversation.id),
        "conversation.tags_changed",
        before={"tags": before},
        after={"tags": wanted},
    )


def normalise_tag(tag: str) -> str:
    cleaned = " ".join(tag.split()).lower()
    if not cleaned or len(cleaned) > 64:
        raise Invalid("invalid_tag", "A tag must have 1 to 64 characters.", field="tags")
    return cleaned


def _check_reference(session: Session, model: type[Any], value: int | None, field: str) -> None:
    if value is not None and session.get(model, value) is None:
        raise Invalid(
            "unknown_reference", "{field} {value} does not exist.", field=field, value=value
        )
