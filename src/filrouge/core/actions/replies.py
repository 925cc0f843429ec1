"""Answering: replies that go out on a channel, and internal notes that never do."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from filrouge.channels.base import ChannelAdapter
from filrouge.channels.registry import adapter_for
from filrouge.core.actions.deliveries import last_inbound_at
from filrouge.core.audit import Actor, record_event
from filrouge.core.blobs import BlobStore
from filrouge.core.errors import Conflict, Invalid
from filrouge.core.events import publish_after_commit
from filrouge.core.models import Attachment, ChannelAccount, Conversation, Identity, Message, User
from filrouge.core.models.enums import (
    ConversationStatus,
    DeliveryStatus,
    Direction,
    MessageFlag,
    Role,
    Visibility,
)
from filrouge.core.personal_data import personal_data_in
from filrouge.core.signatures import sign_reply, signature_style
from filrouge.core.uploads import CheckedFile, UploadedFile, check_uploads
from filrouge.lib.timeutil import utcnow
from filrouge.settings import Settings


def add_reply(
    session: Session,
    conversation: Conversation,
    author: User | None,
    text: str,
    channel_id: int | None = None,
    *,
    attachments: Sequence[UploadedFile] = (),
    settings: Settings | None = None,
    template: Mapping[str, Any] | None = None,
    confirm_personal_data: bool = False,
) -> Message:
    """Queue a reply on ``channel_id`` (default: where the customer wrote last).

    ``attachments`` are checked against ``settings`` (size of each file, number of files)
    before anything is written, then kept in the blob store under ``settings.attachments_dir``.
    A public reply that shows personal data is refused unless ``confirm_personal_data``; on a
    channel whose messaging window has closed (WhatsApp, Messenger) only a ``template`` of the
    channel's (``{"name", "parameters"}``) can go out. Without ``author`` the reply is an
    automatic one (a rule's): signed by no one, flagged ``auto_reply``, never the first response.
    """
    files = _checked_files(attachments, settings)
    channel = _reply_channel(session, conversation, channel_id)
    adapter = adapter_for(channel.kind)
    if adapter is None:
        raise Invalid(
            "channel_cannot_send",
            "Replies cannot be sent on {kind} channels yet.",
            field="channel_id",
            kind=channel.kind,
        )
    identity = reply_identity(session, conversation, channel, adapter)
    last_inbound = last_inbound_on(session, conversation.id, channel.id)
    visibility = reply_visibility(conversation, last_inbound)
    region = settings.default_region if settings else "FR"
    if visibility == Visibility.PUBLIC and not confirm_personal_data:
        check_no_personal_data(text, region)
    chosen = _template_if_needed(session, channel, adapter, identity, template, visibility)
    style = signature_style(channel.kind, channel.settings)
    if chosen is not None:
        body, signed = template_text(chosen), False
    elif author is None:
        body, signed = _require_text(text), False
    else:
        body, signed = sign_reply(_require_text(text), author, style)
    message = Message(
        conversation_id=conversation.id,
        channel_id=channel.id,
        direction=Direction.OUTBOUND,
        identity_id=None if identity is None else identity.id,
        author_id=None if author is None else author.id,
        signed_by_id=author.id if signed and author is not None else None,
        text=body,
        in_reply_to_id=None if last_inbound is None else last_inbound.id,
        status=_first_status(author, adapter),
        visibility=visibility,
        flag=MessageFlag.AUTO_REPLY if author is None else None,
        details=None if chosen is None else {"options": {"template": chosen}},
        occurred_at=utcnow(),
    )
    message.attachments = _stored(files, settings)
    session.add(message)
    session.flush()
    if message.status == DeliveryStatus.AWAITING_APPROVAL and author is not None:
        _log(
            session,
            conversation,
            author,
            "reply.awaiting_approval",
            after={"message_id": message.id, "channel_id": channel.id},
        )
    else:
        _mark_answered(session, conversation, message, author)
    publish_after_commit(
        session, "reply.added", message_id=message.id, conversation_id=conversation.id
    )
    if message.status == DeliveryStatus.QUEUED:
        publish_after_commit(session, "message.queued", message_id=message.id)
    return message


def check_no_personal_data(text: str, region: str) -> None:
    found = personal_data_in(text, region)
    if found:
        raise Invalid(
            "personal_data_in_public",
            "This public reply shows personal data ({kinds}): answer in private, or confirm.",
            field="text",
            kinds=", ".join(found),
        )


def _template_if_needed(
    session: Session,
    channel: ChannelAccount,
    adapter: ChannelAdapter,
    identity: Identity | None,
    template: Mapping[str, Any] | None,
    visibility: str,
) -> dict[str, Any] | None:
    """The template to send, checked against the channel's; None for free text, which the
    messaging window must allow (private messages only: a public comment has none)."""
    if template is not None:
        return _known_template(channel, template)
    if visibility == Visibility.PUBLIC:
        return None
    since = last_inbound_at(session, channel.id, None if identity is None else identity.id)
    if not adapter.window_open(since, utcnow()):
        raise Invalid(
            "window_closed",
            "The customer has not written on {channel} for too long: only a template can go out.",
            field="template",
            channel=channel.name,
        )
    return None


def _known_template(channel: ChannelAccount, template: Mapping[str, Any]) -> dict[str, Any]:
    known = {t.get("name"): t for t in channel_templates(channel)}
    found = known.get(template.get("name"))
    if found is None:
        raise Invalid(
            "unknown_template",
            "Channel {channel} has no template {name}.",
            field="template",
            channel=channel.name,
            name=str(template.get("name")),
        )
    parameters = [str(p) for p in template.get("parameters") or []]
    return {**found, "parameters": parameters}


def channel_templates(channel: ChannelAccount) -> list[dict[str, Any]]:
    """The approved templates an admin listed: ``[{"name", "language", "text"}]``, where the
    text shows ``{{1}}``, ``{{2}}``… for the parameters."""
    templates = (channel.settings or {}).get("templates") or []
    return [t for t in templates if isinstance(t, dict) and t.get("name")]


def template_text(template: Mapping[str, Any]) -> str:
    text = str(template.get("text") or template.get("name"))
    for index, value in enumerate(template.get("parameters") or [], start=1):
        text = text.replace(f"{{{{{index}}}}}", str(value))
    return text


def _checked_files(
    attachments: Sequence[UploadedFile], settings: Settings | None
) -> list[CheckedFile]:
    if not attachments:
        return []
    if settings is None:
        raise TypeError("add_reply needs the settings to store attachments")
    return check_uploads(attachments, settings.max_attachment_bytes, settings.max_reply_attachments)


def _stored(files: list[CheckedFile], settings: Settings | None) -> list[Attachment]:
    """Each file's bytes in the blob store (once per content), and its row."""
    if not files or settings is None:
        return []
    blobs = BlobStore(settings.attachments_dir)
    return [
        Attachment(
            filename=file.filename,
            content_type=file.content_type,
            size=len(file.content),
            sha256=blobs.put(file.content),
        )
        for file in files
    ]


def needs_approval(author: User | None) -> bool:
    """A contributor's reply waits for a supervisor, unless the admin trusted them."""
    return author is not None and author.role == Role.CONTRIBUTOR and not author.trusted


def _first_status(author: User | None, adapter: ChannelAdapter) -> DeliveryStatus:
    if needs_approval(author):
        return DeliveryStatus.AWAITING_APPROVAL
    return DeliveryStatus.SENT if adapter.logs_only else DeliveryStatus.QUEUED


def approve_reply(session: Session, message: Message, reviewer: User) -> Message:
    """Let a contributor's reply go out, signed with the contributor's name."""
    _check_awaiting(message)
    adapter = adapter_for(session.get_one(ChannelAccount, message.channel_id).kind)
    logs_only = adapter is not None and adapter.logs_only
    message.status = DeliveryStatus.SENT if logs_only else DeliveryStatus.QUEUED
    message.occurred_at = utcnow()
    conversation = session.get_one(Conversation, message.conversation_id)
    author = session.get_one(User, message.author_id)
    _mark_answered(session, conversation, message, author)
    _log(session, conversation, reviewer, "reply.approved", after={"message_id": message.id})
    publish_after_commit(
        session, "reply.added", message_id=message.id, conversation_id=conversation.id
    )
    if message.status == DeliveryStatus.QUEUED:
        publish_after_commit(session, "message.queued", message_id=message.id)
    return message


def reject_reply(session: Session, message: Message, reviewer: User) -> Message:
    """The reply never leaves; the contributor sees it was not sent."""
    _check_awaiting(message)
    message.status = DeliveryStatus.REJECTED
    conversation = session.get_one(Conversation, message.conversation_id)
    _log(session, conversation, reviewer, "reply.rejected", after={"message_id": message.id})
    publish_after_commit(
        session, "reply.added", message_id=message.id, conversation_id=conversation.id
    )
    return message


def awaiting_approval(session: Session, workspace_id: int) -> list[Message]:
    return list(
        session.scalars(
            select(Message)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(
                Conversation.workspace_id == workspace_id,
                Message.status == DeliveryStatus.AWAITING_APPROVAL,
            )
            .order_by(Message.occurred_at, Message.id)
        )
    )


def _log(
    session: Session, conversation: Conversation, who: User, action: str, after: dict[str, Any]
) -> None:
    """An event on the conversation, by the user who acted."""
    record_event(
        session,
        conversation.workspace_id,
        Actor.user(who.id),
        ("conversation", conversation.id),
        action,
        after=after,
    )


def _check_awaiting(message: Message) -> None:
    if message.status != DeliveryStatus.AWAITING_APPROVAL:
        raise Conflict("not_awaiting_approval", "This reply is not waiting for approval.")


def reply_visibility(conversation: Conversation, last_inbound: Message | None) -> str:
    """Public only when both the conversation and the customer's last message there are:
    once a conversation has moved to private, nothing in it goes out in public."""
    if conversation.visibility == Visibility.PUBLIC and last_inbound is not None:
        return last_inbound.visibility
    return Visibility.PRIVATE


def add_note(session: Session, conversation: Conversation, author: User, text: str) -> Message:
    """An internal note: visible to the team only, never sent, never a response."""
    message = Message(
        conversation_id=conversation.id,
        channel_id=conversation.channel_id,
        direction=Direction.NOTE,
        author_id=author.id,
        text=_require_text(text),
        status=DeliveryStatus.SENT,
        visibility=Visibility.PRIVATE,
        occurred_at=utcnow(),
    )
    session.add(message)
    session.flush()
    _log(session, conversation, author, "note.added", after={"message_id": message.id})
    publish_after_commit(
        session, "note.added", message_id=message.id, conversation_id=conversation.id
    )
    return message


def reachable_channels(session: Session, conversation: Conversation) -> list[ChannelAccount]:
    """Every active channel on which a reply to this conversation's customer can go out."""
    channels = session.scalars(
        select(ChannelAccount)
        .where(ChannelAccount.workspace_id == conversation.workspace_id, ChannelAccount.active)
        .order_by(ChannelAccount.id)
    )
    reachable = []
    for channel in channels:
        adapter = adapter_for(channel.kind)
        if adapter is not None and _can_reach(session, conversation, channel, adapter):
            reachable.append(channel)
    return reachable


def closed_windows(
    session: Session, conversation: Conversation, channels: list[ChannelAccount]
) -> dict[int, list[dict[str, Any]]]:
    """The channels (of ``channels``) whose messaging window has closed for this customer,
    each with the templates that can still go out on it."""
    closed = {}
    for channel in channels:
        adapter = adapter_for(channel.kind)
        if adapter is None or adapter.reply_window is None:
            continue
        try:
            identity = reply_identity(session, conversation, channel, adapter)
        except Invalid:
            continue
        last = last_inbound_on(session, conversation.id, channel.id)
        if reply_visibility(conversation, last) == Visibility.PUBLIC:
            continue  # a public reply has no messaging window
        since = last_inbound_at(session, channel.id, None if identity is None else identity.id)
        if not adapter.window_open(since, utcnow()):
            closed[channel.id] = channel_templates(channel)
    return closed


def reply_identity(
    session: Session, conversation: Conversation, channel: ChannelAccount, adapter: ChannelAdapter
) -> Identity | None:
    """Whom to write to: who last wrote on this channel, else an identity the channel reaches."""
    last_inbound = last_inbound_on(session, conversation.id, channel.id)
    if last_inbound is not None and last_inbound.identity_id is not None:
        return session.get(Identity, last_inbound.identity_id)
    identity = _identity_of_kinds(session, conversation.customer_id, adapter.identity_kinds)
    if identity is None and not adapter.logs_only:
        raise Invalid(
            "customer_not_reachable",
            "The customer has no identity that channel {channel} can reach.",
            field="channel_id",
            channel=channel.name,
        )
    return identity


def _can_reach(
    session: Session, conversation: Conversation, channel: ChannelAccount, adapter: ChannelAdapter
) -> bool:
    if adapter.logs_only or last_inbound_on(session, conversation.id, channel.id) is not None:
        return True
    return _identity_of_kinds(session, conversation.customer_id, adapter.identity_kinds) is not None


def _reply_channel(
    session: Session, conversation: Conversation, channel_id: int | None
) -> ChannelAccount:
    channel = session.get(ChannelAccount, channel_id or conversation.channel_id)
    if channel is None or not channel.active or channel.workspace_id != conversation.workspace_id:
        raise Invalid(
            "unknown_channel",
            "There is no active channel {channel_id}.",
            field="channel_id",
            channel_id=channel_id,
        )
    return channel


def last_inbound_on(session: Session, conversation_id: int, channel_id: int) -> Message | None:
    return session.scalar(
        select(Message)
        .where(
            Message.conversation_id == conversation_id,
            Message.channel_id == channel_id,
            Message.direction == Direction.INBOUND,
        )
        .order_by(Message.occurred_at.desc(), Message.id.desc())
        .limit(1)
    )


def _identity_of_kinds(
    session: Session, customer_id: int, kinds: frozenset[str]
) -> Identity | None:
    if not kinds:
        return None
    return session.scalar(
        select(Identity)
        .where(Identity.customer_id == customer_id, Identity.kind.in_(kinds))
        .order_by(Identity.verified.desc(), Identity.id.desc())
        .limit(1)
    )


def _require_text(text: str) -> str:
    if not text.strip():
        raise Invalid("empty_text", "The text is empty.", field="text")
    return text


def _mark_answered(
    session: Session, conversation: Conversation, message: Message, author: User | None
) -> None:
    human = author is not None  # an automatic reply answers nobody's question
    if human and conversation.first_response_at is None:
        conversation.first_response_at = message.occurred_at
    if human and conversation.status == ConversationStatus.NEW:
        conversation.status = ConversationStatus.OPEN
    conversation.last_activity_at = max(conversation.last_activity_at, message.occurred_at)
    after: dict[str, Any] = {
        "message_id": message.id,
        "channel_id": message.channel_id,
        "status": message.status,
    }
    if message.attachments:
        after["attachment_ids"] = [a.id for a in message.attachments]
    if author is None:
        actor = Actor.system()
        record_event(
            session,
            conversation.workspace_id,
            actor,
            ("conversation", conversation.id),
            "reply.added",
            after={**after, "automatic": True},
        )
    else:
        _log(session, conversation, author, "reply.added", after=after)
