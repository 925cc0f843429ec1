"""The statements of the ingestion hot path, built once.

Building a SQLAlchemy statement costs several times more than running it on SQLite, so the
pipeline runs these prebuilt statements with bound parameters (see docs/PERFORMANCE.md).
"""

from __future__ import annotations

from sqlalchemy import and_, bindparam, insert, select, update

from filrouge.core.models import (
    Attachment,
    ChannelAccount,
    Conversation,
    Customer,
    Identity,
    Message,
    ThreadKey,
)
from filrouge.core.models.enums import ConversationStatus, Visibility

CHANNEL = select(
    ChannelAccount.id, ChannelAccount.workspace_id, ChannelAccount.kind, ChannelAccount.active
).where(ChannelAccount.id == bindparam("channel_id"))

# One message alone (a mail, a form, an API call): the channel and the duplicate in one
# round trip. The duplicate columns are NULL when the message is new.
CHANNEL_AND_DUPLICATE = (
    select(
        ChannelAccount.id,
        ChannelAccount.workspace_id,
        ChannelAccount.kind,
        ChannelAccount.active,
        Message.id.label("duplicate_id"),
        Message.conversation_id.label("duplicate_conversation_id"),
        Conversation.customer_id.label("duplicate_customer_id"),
    )
    .select_from(ChannelAccount)
    .outerjoin(
        Message,
        and_(
            Message.channel_id == ChannelAccount.id,
            Message.provider_message_id == bindparam("provider_message_id"),
        ),
    )
    .outerjoin(Conversation, Conversation.id == Message.conversation_id)
    .where(ChannelAccount.id == bindparam("channel_id"))
)

DUPLICATE = (
    select(Message.id, Message.conversation_id, Conversation.customer_id)
    .join(Conversation, Conversation.id == Message.conversation_id)
    .where(
        Message.channel_id == bindparam("channel_id"),
        Message.provider_message_id == bindparam("provider_message_id"),
    )
)

DUPLICATES_IN = (
    select(
        Message.provider_message_id, Message.id, Message.conversation_id, Conversation.customer_id
    )
    .join(Conversation, Conversation.id == Message.conversation_id)
    .where(
        Message.channel_id == bindparam("channel_id"),
        Message.provider_message_id.in_(bindparam("provider_message_ids", expanding=True)),
    )
)

IDENTITY = (
    select(
        Identity.id,
        Identity.customer_id,
        Identity.verified,
        Identity.display_name,
        Identity.attributes,
        Customer.merged_into_id,
        Customer.name.label("customer_name"),
    )
    .join(Customer, Customer.id == Identity.customer_id)
    .where(
        Identity.workspace_id == bindparam("workspace_id"),
        Identity.kind == bindparam("kind"),
        Identity.value == bindparam("value"),
    )
    .with_for_update(read=True, of=Customer)  # a merge waits for us, and we for it
)

VERIFIED_OWNER = (
    select(Identity.customer_id)
    .where(
        Identity.workspace_id == bindparam("workspace_id"),
        Identity.kind.in_(bindparam("kinds", expanding=True)),
        Identity.value == bindparam("value"),
        Identity.verified.is_(True),
    )
    .order_by(Identity.id)
    .limit(1)
)

MERGED_INTO = (
    select(Customer.merged_into_id)
    .where(Customer.id == bindparam("customer_id"))
    .with_for_update(read=True)
)
INSERT_CUSTOMER = insert(Customer).returning(Customer.id)
INSERT_IDENTITY = insert(Identity).returning(Identity.id)
REFRESH_IDENTITY = (
    update(Identity)
    .where(Identity.id == bindparam("identity_id"))
    .values(
        verified=bindparam("verified"),
        display_name=bindparam("display_name"),
        attributes=bindparam("attributes", type_=Identity.attributes.type),
    )
)
NAME_CUSTOMER = (
    update(Customer)
    .where(Customer.id == bindparam("customer_id"), Customer.name.is_(None))
    .values(name=bindparam("name"))
)

CONVERSATION_STATE = select(
    Conversation.id,
    Conversation.customer_id,
    Conversation.channel_id,
    Conversation.status,
    Conversation.visibility,
    Conversation.first_inbound_at,
    Conversation.last_inbound_at,
    Conversation.last_activity_at,
)
CONVERSATION_BY_ID = CONVERSATION_STATE.where(Conversation.id == bindparam("conversation_id"))
_LATEST_OPEN = CONVERSATION_STATE.where(
    Conversation.customer_id == bindparam("customer_id"),
    Conversation.status != ConversationStatus.CLOSED,
).order_by(Conversation.last_activity_at.desc(), Conversation.id.desc())
LATEST_OPEN = _LATEST_OPEN.limit(1)
LATEST_OPEN_PUBLIC = _LATEST_OPEN.where(Conversation.visibility == Visibility.PUBLIC).limit(1)

# Hints only ever lead to the sender's own conversations: a guessed message id or a shared
# post id must not put anyone into someone else's thread.
REPLIED_CONVERSATION = (
    select(Message.conversation_id)
    .join(Conversation, Conversation.id == Message.conversation_id)
    .where(
        Message.provider_message_id.in_(bindparam("provider_ids", expanding=True)),
        Conversation.customer_id == bindparam("customer_id"),
    )
    .order_by(Message.id.desc())
    .limit(1)
)
THREAD_KEY = select(ThreadKey.id, ThreadKey.conversation_id).where(
    ThreadKey.channel_id == bindparam("channel_id"),
    ThreadKey.key == bindparam("key"),
    ThreadKey.customer_id == bindparam("customer_id"),
)
INSERT_THREAD_KEY = insert(ThreadKey)
MOVE_THREAD_KEY = (
    update(ThreadKey)
    .where(ThreadKey.id == bindparam("thread_key_id"))
    .values(conversation_id=bindparam("conversation_id"))
)

INSERT_CONVERSATION = insert(Conversation).returning(Conversation.id)
UPDATE_CONVERSATION = (
    update(Conversation)
    .where(Conversation.id == bindparam("conversation_id"))
    .values(
        channel_id=bindparam("channel_id"),
        status=bindparam("status"),
        visibility=bindparam("visibility"),
        first_inbound_at=bindparam("first_inbound_at"),
        last_inbound_at=bindparam("last_inbound_at"),
        last_activity_at=bindparam("last_activity_at"),
    )
)
INSERT_MESSAGE = insert(Message).returning(Message.id)
INSERT_ATTACHMENT = insert(Attachment)
