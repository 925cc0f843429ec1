"""Facebook page comments, outbound: a public reply under the comment answered, or, with
``options["private_reply_to"]`` (a comment id), one private reply to its author in Messenger;
and moderation (hide or show a comment). Only text: the Graph API takes a file for a comment
as a public URL, never bytes, so replies with files are refused rather than sent without them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from filrouge.channels.base import ChannelAdapter, DeliveryError, OutboundMessage, Sent
from filrouge.channels.facebook_comments import client
from filrouge.channels.facebook_comments.inbound import EDITED
from filrouge.core.models.enums import ChannelKind, IdentityKind, Visibility


class FacebookCommentsAdapter(ChannelAdapter):
    kind: ClassVar[str] = ChannelKind.FACEBOOK_COMMENTS
    identity_kinds: ClassVar[frozenset[str]] = frozenset({IdentityKind.FACEBOOK})
    hides_comments: ClassVar[bool] = True
    private_replies: ClassVar[bool] = True

    def send(self, message: OutboundMessage) -> str | Sent | None:
        text = _text(message)
        private_to = message.options.get("private_reply_to")
        if private_to:
            _refuse_files(message, "a private reply to a comment")
            comment = comment_id(str(private_to))
            return client.reply_in_private(message.channel_settings, comment, text)
        if message.visibility != Visibility.PUBLIC:
            raise DeliveryError(
                "this reply is private: a comment reply would show it to everyone "
                "(send it as a private reply to the comment, or on Messenger)",
                permanent=True,
            )
        _refuse_files(message, "a public reply to a comment")
        return client.reply_in_public(message.channel_settings, _answered(message), text)

    def set_hidden(
        self, settings: Mapping[str, Any], provider_message_id: str, hidden: bool
    ) -> None:
        client.hide(settings, comment_id(provider_message_id), hidden)


def comment_id(provider_message_id: str) -> str:
    """The comment (or post) a stored message is: an edit's id names the comment edited."""
    return provider_message_id.split(EDITED, 1)[0]


def _answered(message: OutboundMessage) -> str:
    if not message.in_reply_to:
        raise DeliveryError("there is no comment to answer in this conversation", permanent=True)
    return comment_id(message.in_reply_to)


def _text(message: OutboundMessage) -> str:
    text = message.text.strip()
    if not text:
        raise DeliveryError("nothing to send: the reply is empty", permanent=True)
    return text


def _refuse_files(message: OutboundMessage, what: str) -> None:
    if message.attachments:
        raise DeliveryError(
            f"files cannot be sent with {what}: Facebook only takes a link to a file "
            "already online (remove the files, or send them on Messenger)",
            permanent=True,
        )
