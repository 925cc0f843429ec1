"""Saved segments: created by supervisors (shared with the workspace) or by anyone for
themselves (private); each read through ``access_segment_by_id``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from filrouge.core.audit import Actor, record_event
from filrouge.core.errors import Forbidden, Invalid, NotFound
from filrouge.core.models import Segment, User
from filrouge.core.models.enums import Role
from filrouge.core.segments import SegmentDefinition, parse_definition, segment_clause
from filrouge.i18n import N_

SHARERS = frozenset({Role.ADMIN, Role.SUPERVISOR})


@dataclass(frozen=True)
class SegmentChanges:
    name: str | None = None
    definition: Any = None
    shared: bool | None = None


def visible_segments(session: Session, user: User) -> list[Segment]:
    """The workspace's shared segments and the user's own, by name."""
    return list(
        session.scalars(
            select(Segment)
            .where(
                Segment.workspace_id == user.workspace_id,
                or_(Segment.shared.is_(True), Segment.author_id == user.id),
            )
            .order_by(Segment.name, Segment.id)
        )
    )


def access_segment_by_id(session: Session, user: User, segment_id: int) -> Segment:
    segment = session.get(Segment, segment_id)
    if (
        segment is None
        or segment.workspace_id != user.workspace_id
        or not (segment.shared or segment.author_id == user.id)
    ):
        raise NotFound("segment_not_found", N_("There is no segment {id}."), id=segment_id)
    return segment


def segment_definition(segment: Segment) -> SegmentDefinition:
    return parse_definition(segment.definition)


def segment_filter(
    session: Session, user: User, segment_id: int | None
) -> ColumnElement[bool] | None:
    """The customers of a segment the user may see, as one condition; ``None`` without one."""
    if segment_id is None:
        return None
    segment = access_segment_by_id(session, user, segment_id)
    return segment_clause(segment_definition(segment))


def create_segment(
    session: Session, user: User, name: str, definition: Any, shared: bool
) -> Segment:
    _check_sharing(user, shared)
    checked = parse_definition(definition)
    segment = Segment(
        workspace_id=user.workspace_id,
        name=_name(name),
        definition=checked.model_dump(exclude_defaults=True),
        author_id=user.id,
        shared=shared,
    )
    session.add(segment)
    session.flush()
    _record(session, segment, user, "segment.created", None)
    return segment


def update_segment(
    session: Session, user: User, segment_id: int, changes: SegmentChanges
) -> Segment:
    segment = access_segment_by_id(session, user, segment_id)
    _check_may_change(user, segment)
    before = _snapshot(segment)
    if changes.name is not None:
        segment.name = _name(changes.name)
    if changes.definition is not None:
        checked = parse_definition(changes.definition)
        segment.definition = checked.model_dump(exclude_defaults=True)
    if changes.shared is not None:
        _check_sharing(user, changes.shared)
        segment.shared = changes.shared
    if _snapshot(segment) != before:
        _record(session, segment, user, "segment.updated", before)
    return segment


def delete_segment(session: Session, user: User, segment_id: int) -> None:
    segment = access_segment_by_id(session, user, segment_id)
    _check_may_change(user, segment)
    _record(session, segment, user, "segment.deleted", _snapshot(segment))
    session.delete(segment)


def _check_sharing(user: User, shared: bool) -> None:
    if shared and user.role not in SHARERS:
        raise Forbidden(
            "cannot_share",
            N_("Only supervisors and admins share a segment with the workspace."),
            field="shared",
        )


def _check_may_change(user: User, segment: Segment) -> None:
    if segment.author_id != user.id and user.role not in SHARERS:
        raise Forbidden(
            "not_your_segment", N_("Only its author or a supervisor may change this segment.")
        )


def _name(name: str) -> str:
    text = name.strip()[:200]
    if not text:
        raise Invalid("empty_text", "The text is empty.", field="name")
    return text


def _snapshot(segment: Segment) -> dict[str, Any]:
    return {"name": segment.name, "definition": segment.definition, "shared": segment.shared}


def _record(
    session: Session, segment: Segment, user: User, action: str, before: dict[str, Any] | None
) -> None:
    after = None if action.endswith("deleted") else _snapshot(segment)
    record_event(
        session,
        segment.workspace_id,
        Actor.user(user.id),
        ("segment", segment.id),
        action,
        before,
        after,
    )
