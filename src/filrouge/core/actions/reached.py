"""Who a reply reached, as the provider tells it: one more identity of that customer.

Meta answers a private reply to a public comment with the commenter's id in Messenger (PSID)
or Instagram (IGSID): the person who wrote the comment and the one who will answer in private
are the same, so that identity joins the customer the reply went to. When they answer in
Messenger, their message finds that customer, and their private conversation, at once. An
identity someone else already holds is left as it is: two customers are merged by a person,
never silently.
"""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from filrouge.channels.base import Recipient, Sender
from filrouge.core.actions.identities import add_identity, find_identity
from filrouge.core.audit import Actor
from filrouge.core.errors import Invalid
from filrouge.core.identity import normalise_identity
from filrouge.core.models import ChannelAccount, Conversation, Identity, Message

log = logging.getLogger(__name__)


def link_reached_identity(session: Session, message: Message, reached: Recipient) -> bool:
    """Add ``reached`` to the customer of ``message``'s conversation; True when added."""
    try:
        value = normalise_identity(reached.kind, reached.value, "ZZ")
    except Invalid:
        log.warning("message %s reached a %s id that is not one", message.id, reached.kind)
        return False
    conversation = session.get_one(Conversation, message.conversation_id)
    known = find_identity(session, conversation.workspace_id, reached.kind, value)
    if known is not None:
        if known.customer_id != conversation.customer_id:
            log.info("message %s reached identity %s, another customer's", message.id, known.id)
        return False
    channel = session.get_one(ChannelAccount, message.channel_id)
    sender = Sender(reached.kind, value, name=reached.name or _name_of(session, message))
    add_identity(
        session,
        conversation.workspace_id,
        conversation.customer_id,
        sender,
        value,
        Actor.channel(channel.id),
    )
    return True


def _name_of(session: Session, message: Message) -> str | None:
    """The name the reply's recipient goes by (the commenter's, on a private reply)."""
    if message.identity_id is None:
        return None
    identity = session.get(Identity, message.identity_id)
    return None if identity is None else identity.display_name
