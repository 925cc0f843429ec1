"""The conversation page's actions on public posts: answer in public and in private at once,
hide a comment, send a failed reply again (``core/actions/public_posts.py``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from filrouge.channels.registry import adapter_for
from filrouge.core.access import access_conversation_by_id
from filrouge.core.actions.public_posts import answer_in_private, retry_delivery, set_comment_hidden
from filrouge.core.models import ChannelAccount, Conversation, Message
from filrouge.core.models.enums import Direction, Visibility
from filrouge.db import transaction
from filrouge.web.deps import FactoryDep, SettingsDep
from filrouge.web.schemas import IdPath
from filrouge.web.ui.auth import PageAllowed, Visitor

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Form(min_length=1, max_length=64 * 1024)]


@router.post("/conversations/{conversation_id}/private-reply")
def private_reply(
    conversation_id: IdPath,
    factory: FactoryDep,
    settings: SettingsDep,
    visitor: Annotated[Visitor, PageAllowed("conversations:reply")],
    text: Text,
    public_text: Annotated[str, Form(max_length=64 * 1024)] = "",
) -> Response:
    with transaction(factory) as session:
        conversation = access_conversation_by_id(session, visitor.user, conversation_id)
        answer = answer_in_private(session, conversation, visitor.user, public_text, text, settings)
        private_id = answer.private_conversation.id
    return RedirectResponse(f"/conversations/{private_id}", status_code=303)


@router.post("/conversations/{conversation_id}/messages/{message_id}/hidden")
def hide_comment(
    conversation_id: IdPath,
    message_id: IdPath,
    factory: FactoryDep,
    visitor: Annotated[Visitor, PageAllowed("conversations:moderate")],
    hidden: Annotated[str, Form(pattern="^(yes|no)$")] = "yes",
) -> Response:
    set_comment_hidden(factory, visitor.user, conversation_id, message_id, hidden == "yes")
    return _back(conversation_id)


@router.post("/conversations/{conversation_id}/messages/{message_id}/retry")
def retry(
    conversation_id: IdPath,
    message_id: IdPath,
    factory: FactoryDep,
    visitor: Annotated[Visitor, PageAllowed("messages:retry")],
) -> Response:
    with transaction(factory) as session:
        conversation = access_conversation_by_id(session, visitor.user, conversation_id)
        retry_delivery(session, conversation, visitor.user, message_id)
    return _back(conversation_id)


def public_post_context(session: Session, conversation: Conversation) -> dict[str, Any]:
    """What the page offers on this conversation: a private answer to its public post, hiding
    comments (per channel), and the linked conversation."""
    kinds = dict(session.execute(select(ChannelAccount.id, ChannelAccount.kind)).tuples().all())
    hideable = {cid for cid, kind in kinds.items() if _adapter_can(kind, "hides_comments")}
    post_channel = _public_post_channel(session, conversation)
    return {
        "hideable_channels": hideable,
        "can_answer_privately": post_channel is not None
        and _adapter_can(kinds.get(post_channel, ""), "private_replies"),
        "linked_conversation_id": conversation.linked_conversation_id,
    }


def _public_post_channel(session: Session, conversation: Conversation) -> int | None:
    if conversation.visibility != Visibility.PUBLIC:
        return None
    return session.scalar(
        select(Message.channel_id)
        .where(
            Message.conversation_id == conversation.id,
            Message.direction == Direction.INBOUND,
            Message.visibility == Visibility.PUBLIC,
        )
        .order_by(Message.occurred_at.desc(), Message.id.desc())
        .limit(1)
    )


def _adapter_can(kind: str, ability: str) -> bool:
    adapter = adapter_for(kind)
    return adapter is not None and bool(getattr(adapter, ability))


def _back(conversation_id: int) -> Response:
    return RedirectResponse(f"/conversations/{conversation_id}", status_code=303)
