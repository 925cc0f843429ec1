"""``/api/v1/segments``: saved filters over customers (shared with the workspace or private);
``/customers?segment=`` and ``/conversations?segment=`` use them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Response

from filrouge.core.actions.segments import (
    SegmentChanges,
    access_segment_by_id,
    create_segment,
    delete_segment,
    update_segment,
    visible_segments,
)
from filrouge.core.models import Segment, User
from filrouge.db import transaction
from filrouge.web.deps import Allowed, FactoryDep
from filrouge.web.schemas import IdPath, SegmentCreate, SegmentPublic, SegmentUpdate

router = APIRouter(prefix="/segments", tags=["customers"])
Manager = Annotated[User, Allowed("segments:manage")]


@router.get("", response_model=list[SegmentPublic])
def get_segments(
    factory: FactoryDep, user: Annotated[User, Allowed("segments:list")]
) -> list[SegmentPublic]:
    with transaction(factory) as session:
        return [segment_public(s) for s in visible_segments(session, user)]


@router.post("", status_code=201, response_model=SegmentPublic)
def post_segment(body: SegmentCreate, factory: FactoryDep, user: Manager) -> SegmentPublic:
    with transaction(factory) as session:
        segment = create_segment(session, user, body.name, body.definition, body.shared)
        return segment_public(segment)


@router.get("/{segment_id}", response_model=SegmentPublic)
def get_segment(
    segment_id: IdPath, factory: FactoryDep, user: Annotated[User, Allowed("segments:list")]
) -> SegmentPublic:
    with transaction(factory) as session:
        return segment_public(access_segment_by_id(session, user, segment_id))


@router.patch("/{segment_id}", response_model=SegmentPublic)
def patch_segment(
    segment_id: IdPath, body: SegmentUpdate, factory: FactoryDep, user: Manager
) -> SegmentPublic:
    changes = SegmentChanges(body.name, body.definition, body.shared)
    with transaction(factory) as session:
        return segment_public(update_segment(session, user, segment_id, changes))


@router.delete("/{segment_id}", status_code=204)
def remove_segment(segment_id: IdPath, factory: FactoryDep, user: Manager) -> Response:
    with transaction(factory) as session:
        delete_segment(session, user, segment_id)
    return Response(status_code=204)


def segment_public(segment: Segment) -> SegmentPublic:
    return SegmentPublic(
        id=segment.id,
        name=segment.name,
        definition=segment.definition,
        shared=segment.shared,
        author_id=segment.author_id,
        created_at=segment.created_at,
    )
