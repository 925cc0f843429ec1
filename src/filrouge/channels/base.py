"""The adapter interface every channel implements, and the normalised shapes it speaks.

An adapter only translates: a provider payload into ``NormalisedInbound`` messages, and an
``OutboundMessage`` into a provider call. Identity resolution, threading, statuses, retries and
events all live in the core pipeline, never in an adapter.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar

from filrouge.core.models.enums import DeliveryStatus, MessageFlag, Visibility


@dataclass(frozen=True)
class Sender:
    kind: str
    value: str
    name: str | None = None
    verified: bool = False
    # What the provider tells of this identity: ``handle``, ``followers`` (reach)…
    attributes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class IncomingAttachment:
    filename: str
    content_type: str
    content: bytes | None = None
    url: str | None = None


@dataclass(frozen=True)
class NormalisedInbound:
    """One inbound message, as every channel hands it to the pipeline."""

    channel_id: int
    provider_message_id: str | None
    sender: Sender
    text: str = ""
    html: str | None = None
    attachments: tuple[IncomingAttachment, ...] = ()
    thread_key: str | None = None
    in_reply_to: tuple[str, ...] = ()
    visibility: Visibility = Visibility.PRIVATE
    occurred_at: datetime | None = None
    subject: str | None = None
    # Set by channels that can tell: a message no person wrote ("auto_reply", "bounce",
    # "bulk") never wakes a conversation up; "unreadable" is kept raw for a person to read.
    flag: MessageFlag | None = None
    # A bounce names the provider ids of the messages that could not be delivered.
    bounced_provider_ids: tuple[str, ...] = ()
    # Provider facts kept with the message: the post a comment answers, a location…
    details: Mapping[str, Any] | None = None
    # Other identities the provider proves are the sender's (WhatsApp: the new number of a
    # customer who changed number). The pipeline adds each to the sender's customer unless
    # someone holds it already (never a silent merge): identities.add_sender_aliases.
    sender_aliases: tuple[Sender, ...] = ()


@dataclass(frozen=True)
class StatusUpdate:
    """A provider's receipt for one of our messages: sent, delivered, read or failed.

    A *watermark* receipt (Messenger, Instagram) names no message: with ``watermark_for``,
    every reply to that person on the channel sent at or before ``occurred_at`` has the
    status (``provider_message_id`` is then empty)."""

    channel_id: int
    provider_message_id: str
    status: DeliveryStatus
    occurred_at: datetime | None = None
    error: str | None = None
    watermark_for: Recipient | None = None


@dataclass(frozen=True)
class Unsupported:
    """A part of a webhook that Filrouge does not handle: kept with its reason, never a 500."""

    event_type: str
    reason: str


@dataclass
class WebhookBatch:
    """What one webhook delivery carried, once read by its channel."""

    messages: list[NormalisedInbound] = field(default_factory=list)
    statuses: list[StatusUpdate] = field(default_factory=list)
    unsupported: list[Unsupported] = field(default_factory=list)

    def extend(self, other: WebhookBatch) -> None:
        self.messages.extend(other.messages)
        self.statuses.extend(other.statuses)
        self.unsupported.extend(other.unsupported)


@dataclass(frozen=True)
class Recipient:
    kind: str
    value: str
    name: str | None = None


@dataclass(frozen=True)
class OutboundMessage:
    """A reply to send, with everything the provider needs and nothing it does not."""

    message_id: int
    conversation_id: int
    channel_settings: dict[str, Any]
    recipient: Recipient
    text: str
    html: str | None
    visibility: Visibility
    in_reply_to: str | None = None
    attachments: tuple[IncomingAttachment, ...] = field(default=())
    subject: str | None = None
    # Earlier provider ids of the conversation on this channel, oldest first (mail threads).
    references: tuple[str, ...] = ()
    # When the customer last wrote on this channel (messaging windows: WhatsApp, Messenger).
    customer_last_message_at: datetime | None = None
    # Options chosen in the composer: {"template": {"name", "language", "parameters"}},
    # {"private_reply_to": comment id}…
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Sent:
    """A provider's answer to a send that tells more than the message's id: who it reached,
    as an identity on the network (Meta answers a private reply to a comment with the
    commenter's Messenger or Instagram id), which the core adds to that customer."""

    provider_message_id: str | None
    reached: Recipient | None = None


class DeliveryError(Exception):
    """Sending failed. ``permanent`` errors are not retried (a blocked number, a bad token);
    ``retry_after`` is the provider's own delay (seconds) before trying again; ``reconnect``
    says the channel's credentials were refused, so an admin must connect it again."""

    def __init__(
        self,
        message: str,
        *,
        permanent: bool = False,
        retry_after: float | None = None,
        reconnect: bool = False,
    ) -> None:
        super().__init__(message)
        self.permanent = permanent or reconnect
        self.retry_after = retry_after
        self.reconnect = reconnect


class ChannelAdapter(ABC):
    """What a channel kind must provide. See ``channels/registry.py`` for the list."""

    kind: ClassVar[str]
    # Identity kinds this channel can write to (e.g. WhatsApp: phone numbers).
    identity_kinds: ClassVar[frozenset[str]] = frozenset()
    # A channel that records what was said without sending (phone, in store, letters).
    logs_only: ClassVar[bool] = False
    # How long after the customer's last message free text may still be sent (WhatsApp and
    # Messenger: 24 hours); None: no such rule. Outside it only templates go out.
    reply_window: ClassVar[timedelta | None] = None

    # Public channels: can a public comment be hidden (moderation), and can its author be
    # answered in private (``options["private_reply_to"]``: Messenger's private reply to a
    # comment, an Instagram private reply, an X DM)?
    hides_comments: ClassVar[bool] = False
    private_replies: ClassVar[bool] = False

    def set_hidden(
        self, settings: Mapping[str, Any], provider_message_id: str, hidden: bool
    ) -> None:
        """Hide (or show again) a public comment; raises ``DeliveryError`` when refused."""
        raise DeliveryError("this channel cannot hide messages", permanent=True)

    def window_open(self, customer_last_message_at: datetime | None, now: datetime) -> bool:
        """May free text be sent now? (Else the composer offers the channel's templates.)"""
        if self.reply_window is None:
            return True
        if customer_last_message_at is None:
            return False
        return now - customer_last_message_at < self.reply_window

    @abstractmethod
    def send(self, message: OutboundMessage) -> str | Sent | None:
        """Deliver ``message``; return the provider's message id (or a ``Sent`` when the
        provider also names who it reached), or raise ``DeliveryError``."""
