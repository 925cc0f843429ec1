"""X replies: a public reply to the customer's tweet (``POST /2/tweets`` with ``reply.
in_reply_to_tweet_id``) when the reply is public, else a DM (``POST /2/dm_conversations/with/
<user id>/messages``). A public mention may be answered in private: ``options
["private_reply_to"]`` (the tweet's id) sends the reply as a DM to its author.

Images (up to 4 on a tweet, 1 on a DM) or one video (MP4 or MOV, by X's chunked upload) go
with the reply, uploaded first; other files are refused rather than dropped.

Length: X allows 280 characters in a tweet and 10,000 in a DM. They are counted simply here,
one per character; X's own count weighs links as 23 and some scripts and emoji as 2, so a
reply under 280 by this count may still be refused by X (its words are then shown).
"""

from __future__ import annotations

from typing import Any, ClassVar

from filrouge.channels.base import (
    ChannelAdapter,
    DeliveryError,
    IncomingAttachment,
    OutboundMessage,
)
from filrouge.channels.x import client
from filrouge.core.models.enums import ChannelKind, IdentityKind, Visibility

TWEET_LIMIT = 280
DM_LIMIT = 10_000
TWEET_IMAGES = 4
DM_IMAGES = 1
VIDEO_TYPES = frozenset({"video/mp4", "video/quicktime"})


class XAdapter(ChannelAdapter):
    kind: ClassVar[str] = ChannelKind.X
    identity_kinds: ClassVar[frozenset[str]] = frozenset({IdentityKind.X})
    private_replies: ClassVar[bool] = True

    def send(self, message: OutboundMessage) -> str | None:
        if message.recipient.kind != IdentityKind.X or not message.recipient.value:
            raise DeliveryError("the customer has no X account to write to", permanent=True)
        in_public = message.visibility == Visibility.PUBLIC
        if in_public and not message.options.get("private_reply_to"):
            return reply_in_public(message)
        return send_direct_message(message)


def reply_in_public(message: OutboundMessage) -> str:
    """A reply under the customer's tweet, seen by everyone."""
    if not message.in_reply_to:
        raise DeliveryError("a public reply on X answers a tweet: there is none", permanent=True)
    text = message.text.strip()
    _check_length(text, TWEET_LIMIT, "a public reply on X")
    files = _media(message, TWEET_IMAGES)
    body: dict[str, Any] = {"text": text, "reply": {"in_reply_to_tweet_id": message.in_reply_to}}
    if files:
        settings = message.channel_settings
        body["media"] = {"media_ids": [_upload(settings, f, "tweet") for f in files]}
    return client.post_tweet(message.channel_settings, body)


def send_direct_message(message: OutboundMessage) -> str:
    """A DM to the customer (a private reply to a mention, or an answer to their DM)."""
    text = message.text.strip()
    _check_length(text, DM_LIMIT, "a DM on X")
    files = _media(message, DM_IMAGES)
    body: dict[str, Any] = {"text": text}
    if files:
        body["attachments"] = [{"media_id": _upload(message.channel_settings, files[0], "dm")}]
    return client.send_dm(message.channel_settings, message.recipient.value, body)


def _check_length(text: str, limit: int, what: str) -> None:
    if not text:
        raise DeliveryError("nothing to send: the reply is empty", permanent=True)
    if len(text) > limit:
        raise DeliveryError(
            f"{what} takes at most {limit} characters; this one has {len(text)} "
            "(counted one per character): shorten it, or answer in private",
            permanent=True,
        )


def _media(message: OutboundMessage, most_images: int) -> list[IncomingAttachment]:
    """The reply's files, as X takes them: images (``most_images``) or one video alone."""
    files = [f for f in message.attachments if f.content is not None]
    others = [f.filename for f in files if not _is_image(f) and not _is_video(f)]
    if others:
        raise DeliveryError(
            f"only images and MP4 or MOV videos can be sent on X: {', '.join(others)}",
            permanent=True,
        )
    if any(_is_video(f) for f in files) and len(files) > 1:
        raise DeliveryError("X takes one video alone, without other files", permanent=True)
    if len(files) > most_images:
        raise DeliveryError(f"X takes at most {most_images} image(s) here", permanent=True)
    return files


def _upload(settings: Any, file: IncomingAttachment, use: str) -> str:
    """Upload one file for a tweet (``use="tweet"``) or a DM (``"dm"``)."""
    if _is_video(file):
        return client.upload_video(settings, file, f"{use}_video")
    category = f"{use}_gif" if file.content_type == "image/gif" else f"{use}_image"
    return client.upload_media(settings, file, category)


def _is_image(file: IncomingAttachment) -> bool:
    return file.content_type.startswith("image/")


def _is_video(file: IncomingAttachment) -> bool:
    return file.content_type in VIDEO_TYPES
