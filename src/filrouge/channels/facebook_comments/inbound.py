"""A Facebook page ``feed`` webhook → public messages.

The format (Meta's Webhooks reference, object ``page``, field ``feed``)::

    {"object": "page", "entry": [{"id": "<page id>", "time": 1615416910,
      "changes": [{"field": "feed", "value": {
        "item": "comment" | "status" | "post" | "photo" | "video" | "reaction" | "like" | …,
        "verb": "add" | "edited" | "remove" | "hide" | "unhide" | …,
        "from": {"id": "<user id>", "name": "…"}, "post_id": "<page id>_<post id>",
        "comment_id": "<post id>_<comment id>", "parent_id": "<post or comment id>",
        "message": "…", "created_time": 1615416907, "photo": "<url>", "video": "<url>",
        "post": {"permalink_url": "…", …}}}]}]}

A visitor's comment, or a visitor's post on the page's wall, is a PUBLIC message from the
``facebook`` identity ``from.id``; the post is the thread, so one person's comments under one
post stay together, and a reply to a comment (one of ours too) names that comment. What the
page itself writes is ours: its posts are ``page_post``, its comments ``echo``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from filrouge.channels.base import (
    IncomingAttachment,
    NormalisedInbound,
    Sender,
    Unsupported,
    WebhookBatch,
)
from filrouge.channels.meta.profile import reach_attributes
from filrouge.channels.webhooks import PayloadError, from_timestamp
from filrouge.core.models.enums import IdentityKind, Visibility

EDITED = ":edited:"
NEW_OR_EDITED = frozenset({"add", "edited"})
MEDIA = (("photo", "photo.jpg", "image/jpeg"), ("video", "video.mp4", "video/mp4"))


@dataclass(frozen=True)
class _Page:
    channel_id: int
    page_id: str


def read_feed(channel_id: int, page_id: str, payload: dict[str, Any]) -> WebhookBatch:
    """Every change of every entry of one delivery; ``page_id`` is the channel's page."""
    entries = payload.get("entry")
    if not isinstance(entries, list):
        raise PayloadError("a Meta webhook has a list of entries")
    if payload.get("object") != "page":
        kind = f"object:{payload.get('object')}"
        return _unsupported(kind, "not a Facebook page webhook (object is not 'page')")
    batch = WebhookBatch()
    for entry in entries:
        batch.extend(_entry(_Page(channel_id, page_id), entry))
    return batch


def _entry(page: _Page, entry: Any) -> WebhookBatch:
    if not isinstance(entry, dict):
        raise PayloadError("each entry of a Meta webhook is an object")
    if not page.page_id or str(entry.get("id")) != page.page_id:
        return _unsupported("unknown_page", f"page {entry.get('id')} is not this channel's page")
    changes = entry.get("changes")
    if not isinstance(changes, list):
        kinds = [k for k in entry if k not in ("id", "time")] or ["empty"]
        return _unsupported(kinds[0], "only the page's feed changes are read by this channel")
    batch = WebhookBatch()
    for change in changes:
        batch.extend(_change(page, change))
    return batch


def _change(page: _Page, change: Any) -> WebhookBatch:
    field = change.get("field") if isinstance(change, dict) else None
    value = change.get("value") if isinstance(change, dict) else None
    if field != "feed" or not isinstance(value, dict):
        return _unsupported(str(field or "unknown"), "not a feed change")
    item = str(value.get("item") or "unknown")
    handler = HANDLERS.get(item)
    if handler is None:
        return _unsupported(item, f"a feed {item!r} is not a message Filrouge handles")
    return handler(page, value)


def _comment(page: _Page, value: dict[str, Any]) -> WebhookBatch:
    verb = str(value.get("verb") or "")
    if verb not in NEW_OR_EDITED:
        return _unsupported("comment", f"verb {verb!r}: only new and edited comments are kept")
    if _author_id(value) == page.page_id:
        return _unsupported("echo", "a comment the page itself wrote")
    comment_id, post_id = value.get("comment_id"), value.get("post_id")
    if not comment_id or not post_id or not _author_id(value):
        return _unsupported("comment", "the comment names no id, post or author (from)")
    parent = str(value.get("parent_id") or "")
    replied = (parent,) if parent and parent != str(post_id) else ()
    return _kept(_normalised(page, value, str(comment_id), replied))


def _post(page: _Page, value: dict[str, Any]) -> WebhookBatch:
    item, verb = str(value.get("item")), str(value.get("verb") or "")
    if _author_id(value) == page.page_id:
        return _unsupported("page_post", f"the page's own {item} post ({verb})")
    if verb not in NEW_OR_EDITED:
        return _unsupported(item, f"verb {verb!r}: only new and edited posts are kept")
    post_id = value.get("post_id")
    if not post_id or not _author_id(value):
        return _unsupported(item, "the post names no id or author (from)")
    return _kept(_normalised(page, value, str(post_id), ()))


def _reaction(page: _Page, value: dict[str, Any]) -> WebhookBatch:
    item = str(value.get("item"))
    return _unsupported(item, f"a {item} ({value.get('verb')}) is not a message")


def _normalised(
    page: _Page, value: dict[str, Any], provider_id: str, replied: tuple[str, ...]
) -> NormalisedInbound:
    edited = value.get("verb") == "edited"
    if edited:
        replied = (provider_id, *replied)
        provider_id = f"{provider_id}{EDITED}{value.get('created_time', '')}"
    return NormalisedInbound(
        channel_id=page.channel_id,
        provider_message_id=provider_id,
        sender=_sender(value["from"]),
        text=str(value.get("message") or ""),
        attachments=_attachments(value),
        thread_key=str(value["post_id"]),
        in_reply_to=replied,
        visibility=Visibility.PUBLIC,
        occurred_at=_when(value.get("created_time")),
        details=_details(value, edited),
    )


def _sender(author: dict[str, Any]) -> Sender:
    return Sender(
        IdentityKind.FACEBOOK,
        str(author["id"]),
        name=author.get("name") or None,
        attributes=reach_attributes(author),
    )


def _attachments(value: dict[str, Any]) -> tuple[IncomingAttachment, ...]:
    """The photo or video of a comment (``photo``, ``video``), of a visitor's photo or video
    post (``link``) or of a post with several photos (``photos``): links, not bytes."""
    files: list[IncomingAttachment] = []
    for key, name, kind in MEDIA:
        links = [value.get(key)]
        if value.get("item") == key:
            links.append(value.get("link"))
        if key == "photo" and isinstance(value.get("photos"), list):
            links.extend(value["photos"])
        seen = dict.fromkeys(link for link in links if isinstance(link, str) and link)
        files.extend(IncomingAttachment(name, kind, url=link) for link in seen)
    return tuple(files)


def _details(value: dict[str, Any], edited: bool) -> dict[str, Any]:
    details: dict[str, Any] = {"post_id": str(value["post_id"])}
    if value.get("parent_id"):
        details["parent_id"] = str(value["parent_id"])
    post = value.get("post")
    if isinstance(post, dict) and post.get("permalink_url"):
        details["post_url"] = str(post["permalink_url"])
    if edited:
        details["edited"] = True
    return details


def _author_id(value: dict[str, Any]) -> str:
    author = value.get("from")
    return str(author.get("id") or "") if isinstance(author, dict) else ""


def _when(value: Any) -> datetime | None:
    """``created_time``: seconds since the epoch (or, on older deliveries, ISO 8601)."""
    if isinstance(value, str) and not value.isdigit():
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            return None
        return when if when.tzinfo else when.replace(tzinfo=UTC)
    return from_timestamp(value)


def _kept(message: NormalisedInbound) -> WebhookBatch:
    return WebhookBatch(messages=[message])


def _unsupported(event_type: str, reason: str) -> WebhookBatch:
    return WebhookBatch(unsupported=[Unsupported(event_type, reason)])


HANDLERS: dict[str, Callable[[_Page, dict[str, Any]], WebhookBatch]] = {
    "comment": _comment,
    "status": _post,
    "post": _post,
    "photo": _post,
    "video": _post,
    "reaction": _reaction,
    "like": _reaction,
}
