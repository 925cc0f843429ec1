"""Instagram webhooks → normalised messages and receipts.

Meta posts ``{"object": "instagram", "entry": [{"id": <account id>, "time", …}]}`` where an
entry holds ``messaging[]`` (direct messages, the Messenger Platform's events: read by
``channels/messenger/inbound.py``; the sender is the customer's Instagram-scoped id, IGSID)
or ``changes[]``: ``{"field": "comments", "value": {"id", "text", "from": {"id", "username"},
"media": {"id", "media_product_type"}, "parent_id"?}}`` — a comment on the account's media,
kept as a **public** message threaded by its media.

Settings read: ``instagram_account_id`` (each entry's ``id`` must be it, or the linked
``page_id`` when one is set, which some Facebook-Login apps receive instead).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from filrouge.channels.base import NormalisedInbound, Sender, Unsupported, WebhookBatch
from filrouge.channels.messenger.inbound import (
    Account,
    account_ids,
    as_dict,
    meta_body,
    read_body,
    read_messaging,
)
from filrouge.channels.meta.profile import reach_attributes
from filrouge.channels.webhooks import from_timestamp
from filrouge.core.models.enums import IdentityKind, Visibility

COMMENT_FIELDS = frozenset({"comments", "live_comments"})


def instagram_account(settings: Mapping[str, Any]) -> Account:
    ids = account_ids(settings, "instagram_account_id", "page_id")
    return Account("instagram", ids, IdentityKind.INSTAGRAM, "unknown_account")


def read_instagram_body(channel_id: int, settings: Mapping[str, Any], body: bytes) -> WebhookBatch:
    return read_body(channel_id, instagram_account(settings), meta_body(body), _entry)


def _entry(channel_id: int, account: Account, entry: dict[str, Any]) -> WebhookBatch:
    batch = read_messaging(channel_id, account, entry)
    for change in entry.get("changes") or []:
        if isinstance(change, dict):
            batch.extend(_change(channel_id, account, change, entry.get("time")))
        else:
            batch.unsupported.append(Unsupported("changes", "a change that is not an object"))
    return batch


def _change(channel_id: int, account: Account, change: dict[str, Any], time: Any) -> WebhookBatch:
    field, value = change.get("field"), change.get("value")
    if field not in COMMENT_FIELDS or not isinstance(value, dict):
        return WebhookBatch(unsupported=[Unsupported(f"changes:{field}", "not a comment")])
    author = as_dict(value.get("from"))
    if not value.get("id") or not author.get("id"):
        reason = "a comment without its id or its author"
        return WebhookBatch(unsupported=[Unsupported(str(field), reason)])
    if str(author["id"]) in account.ids:
        return WebhookBatch(unsupported=[Unsupported("echo", "a comment the account wrote")])
    return WebhookBatch(messages=[_comment(channel_id, value, author, time)])


def _comment(
    channel_id: int, value: dict[str, Any], author: dict[str, Any], time: Any
) -> NormalisedInbound:
    """A public comment: grouped by the media it is on, answering its parent comment."""
    media = as_dict(value.get("media"))
    parent = value.get("parent_id")
    return NormalisedInbound(
        channel_id=channel_id,
        provider_message_id=str(value["id"]),
        sender=commenter(author),
        text=str(value.get("text") or ""),
        thread_key=str(media["id"]) if media.get("id") else None,
        in_reply_to=(str(parent),) if parent else (),
        visibility=Visibility.PUBLIC,
        occurred_at=from_timestamp(value.get("timestamp")) or from_timestamp(time),
        details=_comment_details(value, media),
    )


def commenter(author: dict[str, Any]) -> Sender:
    username = str(author.get("username") or "").lstrip("@")
    return Sender(
        IdentityKind.INSTAGRAM,
        str(author["id"]),
        name=username or None,
        verified=False,
        attributes={**({"handle": f"@{username}"} if username else {}), **reach_attributes(author)},
    )


def _comment_details(value: dict[str, Any], media: dict[str, Any]) -> dict[str, Any]:
    details: dict[str, Any] = {"comment_id": str(value["id"])}
    if media.get("id"):
        details["media_id"] = str(media["id"])
    if media.get("media_product_type"):
        details["media_product_type"] = media["media_product_type"]
    if value.get("parent_id"):
        details["parent_comment_id"] = str(value["parent_id"])
    return details
