"""``/api/v1/conversations``: the inbox over HTTP."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from filrouge.core.access import access_conversation_by_id
from filrouge.core.actions.conversations import ConversationChanges, update_conversation
from filrouge.core.actions.replies import add_note, add_reply, reachable_channels
from filrouge.core.actions.segments import segment_filter
from filrouge.core.audit import Actor
from filrouge.core.errors import Invalid
from filrouge.core.models import Customer, User
from filrouge.core.queries import ConversationFilters, conversation_thread, list_conversations
from filrouge.core.uploads import UploadedFile
from filrouge.db import transaction
from filrouge.web.api.present import (
    authors_of,
    conversation_public,
    customer_public,
    message_public,
    switches_public,
)
from filrouge.web.deps import Allowed, FactoryDep, SettingsDep
from filrouge.web.schemas import (
    ConversationDetail,
    ConversationPublic,
    ConversationUpdate,
    IdPath,
    IdQuery,
    MessagePublic,
    NoteCreate,
    PagePublic,
    ReplyAttachmentIn,
    ReplyCreate,
    TextQuery,
)

router = APIRouter(prefix="/conversations", tags=["conversations"])
Limit = Annotated[int, Query(ge=1, le=500)]


@router.get("", response_model=PagePublic[ConversationPublic])
def get_conversations(
    factory: FactoryDep,
    user: Annotated[User, Allowed("conversations:list")],
    status: TextQuery = None,
    channel_id: IdQuery = None,
    assignee_id: IdQuery = None,
    team_id: IdQuery = None,
    tag: TextQuery = None,
    customer_id: IdQuery = None,
    q: TextQuery = None,
    cursor: TextQuery = None,
    limit: Limit = 50,
    segment: IdQuery = None,
) -> PagePublic[ConversationPublic]:
    """``segment``: only the conversations of that saved segment's customers."""
    filters = ConversationFilters(status, channel_id, assignee_id, team_id, tag, customer_id, q)
    with transaction(factory) as session:
        filters.segment = segment_filter(session, user, segment)
        page = list_conversations(session, user, filters, limit, cursor)
        return PagePublic(
            items=[conversation_public(c) for c in page.items], next_cursor=page.next_cursor
        )


@router.get("/{conversation_id}", response_model=ConversationDetail)
def get_conversation(
    conversation_id: IdPath,
    factory: FactoryDep,
    user: Annotated[User, Allowed("conversations:read")],
) -> ConversationDetail:
    with transaction(factory) as session:
        return conversation_detail(session, user, conversation_id)


@router.patch("/{conversation_id}", response_model=ConversationPublic)
def patch_conversation(
    conversation_id: IdPath,
    body: ConversationUpdate,
    factory: FactoryDep,
    user: Annotated[User, Allowed("conversations:update")],
) -> ConversationPublic:
    changes = ConversationChanges(status=body.status, priority=body.priority, tags=body.tags)
    for name in ("assignee_id", "team_id"):
        if name in body.model_fields_set:
            setattr(changes, name, getattr(body, name))
    with transaction(factory) as session:
        conversation = access_conversation_by_id(session, user, conversation_id)
        update_conversation(session, conversation, changes, Actor.user(user.id))
        session.flush()
        return conversation_public(conversation)


@router.post("/{conversation_id}/replies", status_code=201, response_model=MessagePublic)
def post_reply(
    conversation_id: IdPath,
    body: ReplyCreate,
    factory: FactoryDep,
    settings: SettingsDep,
    user: Annotated[User, Allowed("conversations:reply")],
) -> MessagePublic:
    """Queue a reply, with files if any (``attachments``, base64). The reply goes out on
    ``channel_id`` (default: where the customer wrote last); files over the limits are refused
    before anything is stored. Each stored file is listed in the answer's ``attachments`` and
    served by ``GET /api/v1/attachments/{id}``."""
    files = [_uploaded(index, item) for index, item in enumerate(body.attachments)]
    with transaction(factory) as session:
        conversation = access_conversation_by_id(session, user, conversation_id)
        message = add_reply(
            session,
            conversation,
            user,
            body.text,
            body.channel_id,
            attachments=files,
            settings=settings,
            template=None if body.template is None else body.template.model_dump(),
            confirm_personal_data=body.confirm_personal_data,
        )
        return message_public(message, {user.id: user})


def _uploaded(index: int, item: ReplyAttachmentIn) -> UploadedFile:
    try:
        content = base64.b64decode("".join(item.content_base64.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise Invalid(
            "invalid_base64",
            "{field} is not valid base64.",
            field=f"attachments.{index}.content_base64",
        ) from exc
    return UploadedFile(item.filename, item.content_type, content)


@router.post("/{conversation_id}/notes", status_code=201, response_model=MessagePublic)
def post_note(
    conversation_id: IdPath,
    body: NoteCreate,
    factory: FactoryDep,
    user: Annotated[User, Allowed("conversations:note")],
) -> MessagePublic:
    with transaction(factory) as session:
        conversation = access_conversation_by_id(session, user, conversation_id)
        message = add_note(session, conversation, user, body.text)
        return message_public(message, {user.id: user})


def conversation_detail(session: Session, user: User, conversation_id: int) -> ConversationDetail:
    conversation = access_conversation_by_id(session, user, conversation_id)
    thread = conversation_thread(session, conversation)
    authors = authors_of(session, thread.messages)
    customer = session.get_one(Customer, conversation.customer_id)
    return ConversationDetail(
        **conversation_public(conversation).model_dump(),
        messages=[message_public(m, authors) for m in thread.messages],
        channel_switches=switches_public(thread),
        customer=customer_public(customer),
        reply_channel_ids=[c.id for c in reachable_channels(session, conversation)],
    )
