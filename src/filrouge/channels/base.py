"""The adapter interface every channel implements, and the normalised shapes it speaks.

An adapter only translates: a provider payload into ``NormalisedInbound`` messages, and an
``OutboundMessage`` into a provider call. Identity resolution, threading, statuses, retries and
events all live in the core pipeline, never in an adapter.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from filrouge.core.models.enums import MessageFlag, Visibility


@dataclass(frozen=True)
class Sender:
    kind: str
    value: str
    name: str | None = None
    verified: bool = False


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


class DeliveryError(Exception):
    """Sending failed. ``permanent`` errors are not retried (a blocked number, a bad token)."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class ChannelAdapter(ABC):
    """What a channel kind must provide. See ``channels/registry.py`` for the list."""

    kind: ClassVar[str]
    # Identity kinds this channel can write to (e.g. WhatsApp: phone numbers).
    identity_kinds: ClassVar[frozenset[str]] = frozenset()
    # A channel that records what was said without sending (phone, in store, letters).
    logs_only: ClassVar[bool] = False

    @abstractmethod
    def send(self, message: OutboundMessage) -> str | None:
        """Deliver ``message``; return the provider's message id, or raise ``DeliveryError``."""
