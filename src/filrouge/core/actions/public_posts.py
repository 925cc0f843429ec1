"""Public posts (page comments, mentions): answer in public and move the personal part to
private in one action, hide an abusive comment, and send again a reply that failed.

A private answer to a public post goes into a private conversation *linked* to the public one
(``linked_conversation_id`` both ways), on the same channel, to the post's author; the adapter
sends it privately (Messenger's private reply to a comment, an Instagram private reply, an X
DM) from ``options["private_reply_to"]``. The customer's answer then threads into the private
conversation, the latest one of theirs.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from filrouge.channels.base import ChannelAdapter, DeliveryError
from filrouge.channels.registry import adapter_for
from filrouge.core.access import access_conversation_by_id
from filrouge.core.actions.replies import add_reply
from filrouge.core.audit import Actor, record_event
from filrouge.core.errors import Conflict, Invalid, NotFound
from filrouge.core.events import publish_after_commit
from filrouge.core.models import ChannelAccount, Conversation, Message, User
from filrouge.core.models.enums import (
    ConversationStatus,
    DeliveryStatus,
    Direction,
    Visibility,
)
from filrouge.lib.timeutil import utcnow
from filrouge.settings import Settings


@dataclass(frozen=True)
class PrivateAnswer:
    public_reply: Message | None
    private_reply: Message
    private_conversation: Conversation


def answer_in_private(
    session: Session,
    conversation: Conversation,
    author: User,
    public_text: str,
    private_text: str,
    settings: Settings | None = None,
) -> PrivateAnswer:
    """A short public acknowledgement (optional) under the customer's post, and the rest in
    private to the post's author, in a linked private conversation."""
    post = _last_public_post(session, conversation)
    channel = session.get_one(ChannelAccount, post.channel_id)
    if not _adapter(channel).private_replies:
        raise Invalid(
            "no_private_replies",
            "Channel {channel} cannot answer a public post in private.",
            field="channel_id",
            channel=channel.name,
        )
    public_reply = None
    if public_text.strip():
        public_reply = add_reply(
            session, conversation, author, public_text, channel.id, settings=settings
        )
    private = _private_conversation(session, conversation, channel)
    reply = add_reply(session, private, author, private_text, channel.id, settings=settings)
    reply.in_reply_to_id = post.id
    reply.details = {"options": {"private_reply_to": post.provider_message_id}}
    _log(session, conversation, author, "conversation.answered_in_private", private.id, reply.id)
    return PrivateAnswer(public_reply, reply, private)


def _last_public_post(session: Session, conversation: Conversation) -> Message:
    post = session.scalar(
        select(Message)
        .where(
            Message.conversation_id == conversation.id,
            Message.direction == Direction.INBOUND,
            Message.visibility == Visibility.PUBLIC,
            Message.provider_message_id.is_not(None),
        )
        .order_by(Message.occurred_at.desc(), Message.id.desc())
        .limit(1)
    )
    if post is None:
        raise Invalid("not_public", "This conversation has no public post to answer.")
    return post


def _private_conversation(
    session: Session, public: Conversation, channel: ChannelAccount
) -> Conversation:
    """The linked private conversation, made the first time (kept while it is not closed)."""
    if public.linked_conversation_id is not None:
        linked = session.get(Conversation, public.linked_conversation_id)
        if linked is not None and linked.status != ConversationStatus.CLOSED:
            return linked
    now = utcnow()
    private = Conversation(
        workspace_id=public.workspace_id,
        customer_id=public.customer_id,
        origin_channel_id=channel.id,
        channel_id=channel.id,
        status=ConversationStatus.OPEN,
        priority=public.priority,
        visibility=Visibility.PRIVATE,
        assignee_id=public.assignee_id,
        team_id=public.team_id,
        subject=public.subject,
        last_activity_at=now,
        linked_conversation_id=public.id,
    )
    session.add(private)
    session.flush()
    public.linked_conversation_id = private.id
    return private


def set_comment_hidden(
    factory: sessionmaker[Session], user: User, conversation_id: int, message_id: int, hidden: bool
) -> Message:
    """Hide (or show again) a customer's public comment on the provider, then record it.

    The provider is called outside any transaction; its refusal is the agent's answer."""
    with factory() as session:
        message = _public_comment(session, user, conversation_id, message_id)
        channel = session.get_one(ChannelAccount, message.channel_id)
        adapter, settings = _adapter(channel), dict(channel.settings or {})
        provider_id = str(message.provider_message_id)
    if not adapter.hides_comments:
        raise Invalid(
            "cannot_hide", "Channel {channel} cannot hide comments.", channel=channel.name
        )
    try:
        adapter.set_hidden(settings, provider_id, hidden)
    except DeliveryError as exc:
        raise Conflict(
            "provider_refused", "The provider refused: {reason}", reason=str(exc)
        ) from exc
    with factory() as session, session.begin():
        message = session.get_one(Message, message_id)
        message.details = {**(message.details or {}), "hidden": hidden}
        conversation = session.get_one(Conversation, conversation_id)
        action = "message.hidden" if hidden else "message.unhidden"
        _log(session, conversation, user, action, conversation.id, message.id)
        _ = message.attachments, message.triage  # loaded now: callers show the message
        return message


def _public_comment(session: Session, user: User, conversation_id: int, message_id: int) -> Message:
    conversation = access_conversation_by_id(session, user, conversation_id)
    message = session.get(Message, message_id)
    if message is None or message.conversation_id != conversation.id:
        raise NotFound("unknown_message", "There is no message {id} here.", id=message_id)
    if message.direction != Direction.INBOUND or message.visibility != Visibility.PUBLIC:
        raise Invalid("not_a_public_comment", "Only a customer's public comment can be hidden.")
    return message


def retry_delivery(
    session: Session, conversation: Conversation, user: User, message_id: int
) -> Message:
    """A reply that failed goes back to the queue (after the cause was fixed, say)."""
    message = session.get(Message, message_id)
    if message is None or message.conversation_id != conversation.id:
        raise NotFound("unknown_message", "There is no message {id} here.", id=message_id)
    if message.direction != Direction.OUTBOUND or message.status != DeliveryStatus.FAILED:
        raise Conflict("not_failed", "Only a reply that failed can be sent again.")
    message.status = DeliveryStatus.QUEUED
    message.error = None
    message.occurred_at = utcnow()  # the sweeper counts from the new attempt
    _log(session, conversation, user, "message.retried", conversation.id, message.id)
    publish_after_commit(session, "message.queued", message_id=message.id)
    return message


def _adapter(channel: ChannelAccount) -> ChannelAdapter:
    adapter = adapter_for(channel.kind)
    if adapter is None:
        raise Invalid(
            "channel_cannot_send",
            "Replies cannot be sent on {kind} channels yet.",
            kind=channel.kind,
        )
    return adapter


def _log(
    session: Session,
    conversation: Conversation,
    user: User,
    action: str,
    other_conversation_id: int,
    message_id: int,
) -> None:
    record_event(
        session,
        conversation.workspace_id,
        Actor.user(user.id),
        ("conversation", conversation.id),
        action,
        after={"message_id": message_id, "conversation_id": other_conversation_id},
    )
    publish_after_commit(
        session, "conversation.updated", conversation_id=conversation.id, message_id=message_id
    )
