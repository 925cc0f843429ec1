"""An X Account Activity API delivery → normalised messages, receipts and unsupported parts.

A delivery is a JSON object naming the subscribed account (``for_user_id``) and one or more
activities, each a list under a key ending in ``_events`` (``tweet_create_events``,
``direct_message_events``, ``favorite_events``…; a revoked subscription is ``user_event``).
DMs carry the users they name in a ``users`` map. What becomes of each:

- ``tweet_create_events`` (v1.1 Tweet objects: mentions of the account, replies to it) →
  **public** messages; the account's own tweets are echoes, retweets are not messages;
- ``direct_message_events`` of type ``message_create`` → **private** messages; DMs the
  account itself sent are echoes;
- ``direct_message_mark_read_events`` by the customer → a ``read`` receipt for the DM named
  ``last_read_event_id``;
- anything else (deletes, likes, follows, typing indicators…) → unsupported, by its key.

Setting: ``user_id``, the account's own X user id (a delivery for another account is not
ours: ``unknown_account``).
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from filrouge.channels.base import (
    IncomingAttachment,
    NormalisedInbound,
    Sender,
    StatusUpdate,
    Unsupported,
    WebhookBatch,
)
from filrouge.channels.webhooks import PayloadError, from_timestamp
from filrouge.core.models.enums import DeliveryStatus, IdentityKind, Visibility

TWEET_DATE = "%a %b %d %H:%M:%S %z %Y"  # "Fri Dec 05 15:55:44 +0000 2014"
# Why the activities Filrouge does not turn into messages are kept aside.
NOT_MESSAGES = {
    "tweet_delete_events": "a tweet was deleted (its message, if any, is kept as it was)",
    "favorite_events": "a like is not a message",
    "follow_events": "a follow or unfollow is not a message",
    "block_events": "a block or unblock is not a message",
    "mute_events": "a mute or unmute is not a message",
    "direct_message_indicate_typing_events": "a typing indicator is not a message",
    "user_event": "the account's subscription changed (revoked?): see the X developer console",
}


@dataclass(frozen=True)
class _Delivery:
    channel_id: int
    account: str  # our own X user id
    users: Mapping[str, Any]
    user_has_blocked: bool


def read_activity(
    channel_id: int, settings: Mapping[str, Any], payload: dict[str, Any]
) -> WebhookBatch:
    """Everything one delivery carries, for the channel whose ``user_id`` it names."""
    account, ours = _id_text(payload.get("for_user_id")), _id_text(settings.get("user_id"))
    if not account:
        raise PayloadError("an Account Activity delivery names its for_user_id")
    if account != ours:
        reason = f"the delivery is for X account {account}; this channel is account {ours or '?'}"
        return _unsupported("unknown_account", reason)
    blocked = str(payload.get("user_has_blocked", "")).lower() == "true"
    delivery = _Delivery(channel_id, account, _object(payload.get("users")), blocked)
    batch = WebhookBatch()
    for key, events in payload.items():
        if key.endswith("_events") or key == "user_event":
            batch.extend(_read_events(delivery, key, events))
    return batch


def _read_events(delivery: _Delivery, key: str, events: Any) -> WebhookBatch:
    handler = HANDLERS.get(key)
    if handler is None or not isinstance(events, list):
        reason = NOT_MESSAGES.get(key, "an X activity Filrouge does not handle")
        return _unsupported(key, reason)
    batch = WebhookBatch()
    for event in events:
        if not isinstance(event, dict):
            raise PayloadError(f"an item of {key} is not an object")
        batch.extend(handler(delivery, event))
    return batch


# -- tweets ----------------------------------------------------------------------------------


def _tweet(delivery: _Delivery, tweet: dict[str, Any]) -> WebhookBatch:
    tweet_id, user = _id_text(tweet.get("id_str") or tweet.get("id")), _object(tweet.get("user"))
    if not tweet_id or not _id_text(user.get("id_str")):
        raise PayloadError("a tweet has an id_str and a user with an id_str")
    if _id_text(user.get("id_str")) == delivery.account:
        return _unsupported("echo", f"tweet {tweet_id} was posted by this account")
    if isinstance(tweet.get("retweeted_status"), dict):
        return _unsupported("retweet", f"tweet {tweet_id} is a retweet, not a message")
    return WebhookBatch(messages=[_public_message(delivery, tweet, tweet_id, user)])


def _public_message(
    delivery: _Delivery, tweet: dict[str, Any], tweet_id: str, user: dict[str, Any]
) -> NormalisedInbound:
    return NormalisedInbound(
        channel_id=delivery.channel_id,
        provider_message_id=tweet_id,
        sender=_sender(user["id_str"], user),
        text=full_text(tweet),
        attachments=tweet_media(tweet),
        in_reply_to=_answered(tweet),
        visibility=Visibility.PUBLIC,
        occurred_at=_tweeted_at(tweet),
        details=_tweet_details(delivery, tweet, tweet_id, user),
    )


def full_text(tweet: dict[str, Any]) -> str:
    """The whole text: an ``extended_tweet`` holds it when the tweet is over 140 characters."""
    extended = tweet.get("extended_tweet")
    if isinstance(extended, dict) and extended.get("full_text"):
        return str(extended["full_text"])
    return str(tweet.get("full_text") or tweet.get("text") or "")


def tweet_media(tweet: dict[str, Any]) -> tuple[IncomingAttachment, ...]:
    """Photos, videos and GIFs of ``extended_entities`` (all of them, not only the first)."""
    extended = tweet.get("extended_tweet")
    source = extended if isinstance(extended, dict) else tweet
    entities = source.get("extended_entities") or tweet.get("extended_entities") or {}
    media = entities.get("media") if isinstance(entities, dict) else None
    if not isinstance(media, list):
        return ()
    return tuple(f for f in (_media_file(m) for m in media if isinstance(m, dict)) if f)


def _media_file(media: dict[str, Any]) -> IncomingAttachment | None:
    url = _best_video(media) if media.get("type") in {"video", "animated_gif"} else None
    url = url or media.get("media_url_https") or media.get("media_url")
    if not isinstance(url, str) or not url:
        return None
    name = urlsplit(url).path.rsplit("/", 1)[-1] or "media"
    guessed = mimetypes.guess_type(name)[0]
    return IncomingAttachment(name, guessed or "application/octet-stream", url=url)


def _best_video(media: dict[str, Any]) -> str | None:
    variants = [
        v
        for v in _object(media.get("video_info")).get("variants") or []
        if isinstance(v, dict) and v.get("content_type") == "video/mp4" and v.get("url")
    ]
    if not variants:
        return None
    return str(max(variants, key=lambda v: v.get("bitrate") or 0)["url"])


def _answered(tweet: dict[str, Any]) -> tuple[str, ...]:
    """The tweets this one answers or quotes: ours, when it is an answer to our reply."""
    ids = (
        _id_text(tweet.get("in_reply_to_status_id_str")),
        _id_text(tweet.get("quoted_status_id_str")),
    )
    return tuple(i for i in ids if i)


def _tweeted_at(tweet: dict[str, Any]) -> datetime | None:
    if tweet.get("timestamp_ms"):
        return from_timestamp(tweet["timestamp_ms"])
    try:
        return datetime.strptime(str(tweet.get("created_at")), TWEET_DATE)
    except ValueError:
        return None


def _tweet_details(
    delivery: _Delivery, tweet: dict[str, Any], tweet_id: str, user: dict[str, Any]
) -> dict[str, Any]:
    details: dict[str, Any] = {
        "url": f"https://x.com/{user.get('screen_name', 'i')}/status/{tweet_id}"
    }
    if _id_text(tweet.get("in_reply_to_status_id_str")):
        details["in_reply_to_tweet"] = tweet["in_reply_to_status_id_str"]
    if _id_text(tweet.get("quoted_status_id_str")):
        details["quotes_tweet"] = tweet["quoted_status_id_str"]
    if delivery.user_has_blocked:
        details["user_has_blocked"] = True
    return details


# -- direct messages -------------------------------------------------------------------------


def _direct_message(delivery: _Delivery, event: dict[str, Any]) -> WebhookBatch:
    kind = event.get("type")
    if kind != "message_create":
        return _unsupported("direct_message_events", f"a DM event of type {kind!r}")
    created = _object(event.get("message_create"))
    event_id, sender_id = _id_text(event.get("id")), _id_text(created.get("sender_id"))
    if not event_id or not sender_id:
        raise PayloadError("a message_create event has an id and a sender_id")
    if sender_id == delivery.account:
        return _unsupported("echo", f"DM {event_id} was sent by this account")
    return WebhookBatch(messages=[_private_message(delivery, event, event_id, sender_id)])


def _private_message(
    delivery: _Delivery, event: dict[str, Any], event_id: str, sender_id: str
) -> NormalisedInbound:
    data = _object(_object(event.get("message_create")).get("message_data"))
    return NormalisedInbound(
        channel_id=delivery.channel_id,
        provider_message_id=event_id,
        sender=_sender(sender_id, delivery.users.get(sender_id)),
        text=str(data.get("text") or ""),
        attachments=_dm_media(data),
        thread_key=f"x-dm:{sender_id}",
        occurred_at=from_timestamp(event.get("created_timestamp")),
    )


def _dm_media(data: dict[str, Any]) -> tuple[IncomingAttachment, ...]:
    media = _object(_object(data.get("attachment")).get("media"))
    found = _media_file(media) if media else None
    return (found,) if found else ()


def _mark_read(delivery: _Delivery, event: dict[str, Any]) -> WebhookBatch:
    """The customer read our DMs up to ``last_read_event_id`` (that one is marked read)."""
    reader, last = _id_text(event.get("sender_id")), _id_text(event.get("last_read_event_id"))
    if not last or reader == delivery.account:
        return _unsupported(
            "direct_message_mark_read_events", "this account read the customer's messages"
        )
    when = from_timestamp(event.get("created_timestamp"))
    receipt = StatusUpdate(delivery.channel_id, last, DeliveryStatus.READ, occurred_at=when)
    return WebhookBatch(statuses=[receipt])


# -- shared ----------------------------------------------------------------------------------


def _sender(user_id: str, user: Any) -> Sender:
    """The X user, with what the payload tells of them: handle, reach, X's own badge (X's
    badge says nothing of whether this identity is the customer's: never ``verified``)."""
    profile = _object(user)
    name = profile.get("name")
    return Sender(IdentityKind.X, user_id, str(name) if name else None, False, _profile(profile))


def _profile(profile: dict[str, Any]) -> dict[str, Any]:
    """Only what the payload has: a DM's ``users`` entry may lack the follower count, which
    must not erase the one a tweet gave."""
    attributes: dict[str, Any] = {}
    if profile.get("screen_name"):
        attributes["handle"] = f"@{profile['screen_name']}"
    if isinstance(profile.get("followers_count"), int):
        attributes["followers"] = profile["followers_count"]
    if isinstance(profile.get("verified"), bool):
        attributes["verified"] = profile["verified"]
    return attributes


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _unsupported(event_type: str, reason: str) -> WebhookBatch:
    return WebhookBatch(unsupported=[Unsupported(event_type, reason)])


def _id_text(value: Any) -> str:
    """An X id as text (``id_str`` values, or numbers where a payload has only those)."""
    if isinstance(value, bool) or value is None:
        return ""
    return str(value).strip() if isinstance(value, str | int) else ""


HANDLERS: dict[str, Callable[[_Delivery, dict[str, Any]], WebhookBatch]] = {
    "tweet_create_events": _tweet,
    "direct_message_events": _direct_message,
    "direct_message_mark_read_events": _mark_read,
}
