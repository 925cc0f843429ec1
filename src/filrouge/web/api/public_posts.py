"""Public posts over HTTP: answer a public post in private, hide a comment, send a failed
reply again (``core/actions/public_posts.py``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from filrouge.core.access import access_conversation_by_id
from filrouge.core.actions.public_posts import answer_in_private, retry_delivery, set_comment_hidden
from filrouge.core.models import User
from filrouge.db import transaction
from filrouge.web.api.present import message_public
from filrouge.web.deps import Allowed, FactoryDep, SettingsDep
from filrouge.web.schemas import (
    HiddenUpdate,
    IdPath,
    MessagePublic,
    PrivateReplyCreate,
    PrivateReplyCreated,
)

router = APIRouter(prefix="/conversations", tags=["conversations"])


@router.post(
    "/{conversation_id}/private-replies", status_code=201, response_model=PrivateReplyCreated
)
def post_private_reply(
    conversation_id: IdPath,
    body: PrivateReplyCreate,
    factory: FactoryDep,
    settings: SettingsDep,
    user: Annotated[User, Allowed("conversations:reply")],
) -> PrivateReplyCreated:
    """On a public post: an optional short public answer, and the rest in private to the
    post's author (Messenger private reply, Instagram private reply, X DM) in a linked private
    conversation."""
    with transaction(factory) as session:
        conversation = access_conversation_by_id(session, user, conversation_id)
        answer = answer_in_private(
            session, conversation, user, body.public_text, body.text, settings
        )
        authors = {user.id: user}
        public = answer.public_reply
        return PrivateReplyCreated(
            public_reply=None if public is None else message_public(public, authors),
            private_reply=message_public(answer.private_reply, authors),
            private_conversation_id=answer.private_conversation.id,
        )


@router.post("/{conversation_id}/messages/{message_id}/hidden", response_model=MessagePublic)
def post_hidden(
    conversation_id: IdPath,
    message_id: IdPath,
    body: HiddenUpdate,
    factory: FactoryDep,
    user: Annotated[User, Allowed("conversations:moderate")],
) -> MessagePublic:
    """Hide (``{"hidden": true}``) or show again a customer's public comment, on the provider."""
    message = set_comment_hidden(factory, user, conversation_id, message_id, body.hidden)
    return message_public(message, {})


@router.post("/{conversation_id}/messages/{message_id}/retry", response_model=MessagePublic)
def post_retry(
    conversation_id: IdPath,
    message_id: IdPath,
    factory: FactoryDep,
    user: Annotated[User, Allowed("messages:retry")],
) -> MessagePublic:
    """Send again a reply that failed."""
    with transaction(factory) as session:
        conversation = access_conversation_by_id(session, user, conversation_id)
        message = retry_delivery(session, conversation, user, message_id)
        return message_public(message, {})
