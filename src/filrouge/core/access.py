"""Permission-checked loaders: every read of customer data goes through one of these.

Admins, supervisors and agents see the whole workspace. Contributors (employees outside the
support team: a store manager, a product expert) see the conversations tagged with one of their
expertise tags, those offered to them (core/actions/offers.py) and those assigned to them, and
the customers of those.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, exists, or_, select, true
from sqlalchemy.orm import Session

from filrouge.core.errors import NotFound
from filrouge.core.models import (
    Attachment,
    ContributorOffer,
    Conversation,
    ConversationTag,
    Customer,
    DuplicateSuggestion,
    Message,
    User,
)
from filrouge.core.models.enums import Role


def conversation_scope(user: User) -> ColumnElement[bool]:
    """The SQL condition selecting the conversations ``user`` may see."""
    if user.role != Role.CONTRIBUTOR:
        return Conversation.workspace_id == user.workspace_id
    shared = exists().where(
        ConversationTag.conversation_id == Conversation.id,
        ConversationTag.tag.in_(user.expertise or []),
    )
    offered = exists().where(
        ContributorOffer.conversation_id == Conversation.id, ContributorOffer.user_id == user.id
    )
    return (Conversation.workspace_id == user.workspace_id) & or_(
        shared, offered, Conversation.assignee_id == user.id
    )


def customer_scope(user: User) -> ColumnElement[bool]:
    if user.role != Role.CONTRIBUTOR:
        return (Customer.workspace_id == user.workspace_id) & true()
    visible = select(Conversation.id).where(
        Conversation.customer_id == Customer.id, conversation_scope(user)
    )
    return (Customer.workspace_id == user.workspace_id) & exists(visible)


def access_conversation_by_id(session: Session, user: User, conversation_id: int) -> Conversation:
    conversation = session.scalar(
        select(Conversation).where(Conversation.id == conversation_id, conversation_scope(user))
    )
    if conversation is None:
        raise NotFound(
            "conversation_not_found", "There is no conversation {id}.", id=conversation_id
        )
    return conversation


def access_customer_by_id(session: Session, user: User, customer_id: int) -> Customer:
    """The customer, even a merge tombstone (callers redirect those to the live customer)."""
    customer = session.scalar(
        select(Customer).where(Customer.id == customer_id, customer_scope(user))
    )
    if customer is None:
        raise NotFound("customer_not_found", "There is no customer {id}.", id=customer_id)
    return customer


def access_attachment_by_id(session: Session, user: User, attachment_id: int) -> Attachment:
    attachment = session.scalar(
        select(Attachment)
        .join(Message, Message.id == Attachment.message_id)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(Attachment.id == attachment_id, conversation_scope(user))
    )
    if attachment is None:
        raise NotFound("attachment_not_found", "There is no attachment {id}.", id=attachment_id)
    return attachment


def access_suggestion_by_id(
    session: Session, user: User, suggestion_id: int
) -> DuplicateSuggestion:
    """A suggested duplicate of the user's workspace (the route checks the role)."""
    suggestion = session.scalar(
        select(DuplicateSuggestion).where(
            DuplicateSuggestion.id == suggestion_id,
            DuplicateSuggestion.workspace_id == user.workspace_id,
        )
    )
    if suggestion is None:
        raise NotFound("suggestion_not_found", "There is no suggestion {id}.", id=suggestion_id)
    return suggestion


def access_message_by_id(session: Session, user: User, message_id: int) -> Message:
    """A message of a conversation ``user`` may see; anything else is "not found"."""
    message = session.scalar(
        select(Message)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(Message.id == message_id, conversation_scope(user))
    )
    if message is None:
        raise NotFound("message_not_found", "There is no message {id}.", id=message_id)
    return message
