"""Instagram replies: a direct message by the Send API (text in parts of 1,000 bytes,
files uploaded; 24 hours as a ``RESPONSE``, then 7 days with the ``HUMAN_AGENT`` tag); a
public reply to the comment answered; a private reply to a comment
(``options["private_reply_to"]``); hiding a comment. Settings: those of ``meta/graph.py``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any, ClassVar

from filrouge.channels.base import ChannelAdapter, DeliveryError, OutboundMessage, Sent
from filrouge.channels.instagram import client
from filrouge.channels.messenger import client as send_api
from filrouge.core.models.enums import ChannelKind, IdentityKind, Visibility
from filrouge.lib.timeutil import utcnow

TEXT_LIMIT = 1000


class InstagramAdapter(ChannelAdapter):
    kind: ClassVar[str] = ChannelKind.INSTAGRAM
    identity_kinds: ClassVar[frozenset[str]] = frozenset({IdentityKind.INSTAGRAM})
    # Direct messages keep Messenger's windows (24 h, then 7 days with the human-agent tag);
    # the core asks only for private replies: a public reply to a comment has no window.
    reply_window: ClassVar[timedelta | None] = send_api.HUMAN_AGENT_WINDOW
    hides_comments: ClassVar[bool] = True
    private_replies: ClassVar[bool] = True

    def send(self, message: OutboundMessage) -> str | Sent | None:
        private_to = message.options.get("private_reply_to")
        if private_to:
            return _private_reply(message, str(private_to))
        if message.visibility == Visibility.PUBLIC:
            return _public_reply(message)
        return _direct_message(message)

    def set_hidden(
        self, settings: Mapping[str, Any], provider_message_id: str, hidden: bool
    ) -> None:
        client.set_comment_hidden(settings, _comment_id(provider_message_id), hidden)


def _direct_message(message: OutboundMessage) -> str | None:
    if message.recipient.kind != IdentityKind.INSTAGRAM or not message.recipient.value:
        raise DeliveryError("the customer has no Instagram id to write to", permanent=True)
    window = send_api.window_fields(message.customer_last_message_at, utcnow())
    path = client.MESSAGES_PATH
    return send_api.send_parts(message.channel_settings, path, message, window, TEXT_LIMIT)


def _public_reply(message: OutboundMessage) -> str | None:
    """Under the comment answered: text only, as Instagram's comments are."""
    if not message.in_reply_to:
        raise DeliveryError(
            "a public reply on Instagram answers a comment, and this reply answers none",
            permanent=True,
        )
    comment_id = _comment_id(message.in_reply_to)
    _text_only(message, "a public reply on Instagram")
    return client.reply_to_comment(message.channel_settings, comment_id, message.text.strip())


def _private_reply(message: OutboundMessage, comment_id: str) -> Sent:
    """One message to the comment's author, in their Instagram inbox."""
    _text_only(message, "a private reply to a comment")
    settings = message.channel_settings
    return client.private_reply(settings, _comment_id(comment_id), message.text.strip())


def _text_only(message: OutboundMessage, what: str) -> None:
    if message.attachments:
        reason = f"{what} carries text only: send files by direct message"
        raise DeliveryError(reason, permanent=True)
    if not message.text.strip():
        raise DeliveryError("nothing to send: the reply is empty", permanent=True)


def _comment_id(value: str) -> str:
    """Instagram comment ids are numbers (a direct message's id never is)."""
    if not value.strip().isdigit():
        raise DeliveryError(f"{value[:80]!r} is not an Instagram comment id", permanent=True)
    return value.strip()
