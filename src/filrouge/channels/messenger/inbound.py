"""Messenger Platform webhooks → normalised messages and receipts.

Meta posts ``{"object": "page", "entry": [{"id": <page id>, "time", "messaging": [event]}]}``;
an event names its ``sender.id`` (the customer's page-scoped id, PSID), its ``timestamp`` (ms)
and one of: ``message`` (``mid``, ``text``, ``attachments`` of type image, video, audio or
file with ``payload.url``, ``quick_reply.payload``, ``reply_to.mid``; ``is_echo`` for what the
page sent itself), ``postback`` (a button: ``title``, ``payload``, ``mid``), ``delivery``
(``mids``, ``watermark``) or ``read`` (``watermark``; Instagram names the ``mid``): a
watermark says that every message the page sent that person up to then was delivered, or read.
Instagram direct messages are the same events, so ``channels/instagram`` reads them here.

Settings read: ``page_id`` (each entry's ``id`` must be it, else ``unknown_page``).
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from filrouge.channels.base import (
    IncomingAttachment,
    NormalisedInbound,
    Recipient,
    Sender,
    StatusUpdate,
    Unsupported,
    WebhookBatch,
)
from filrouge.channels.webhooks import PayloadError, from_timestamp, json_object
from filrouge.core.models.enums import DeliveryStatus, IdentityKind

# Attachment types that carry a file, and the name and type of a file whose URL tells none.
MEDIA = {
    "image": ("image.jpg", "image/jpeg"),
    "video": ("video.mp4", "video/mp4"),
    "audio": ("audio.mp4", "audio/mp4"),
    "file": ("file", "application/octet-stream"),
}


@dataclass(frozen=True)
class Account:
    """What a body must name to be this channel's: Meta's ``object``, the entry ids that are
    ours, and the identity kind of the people who write to it."""

    obj: str
    ids: frozenset[str]
    identity_kind: str
    unknown: str  # the Unsupported event type of an entry for another account


EntryReader = Callable[[int, Account, dict[str, Any]], WebhookBatch]


def meta_body(body: bytes) -> dict[str, Any]:
    """A Meta webhook body: a JSON object with an ``entry`` list (else ``PayloadError``)."""
    payload = json_object(body)
    if not isinstance(payload.get("entry"), list):
        raise PayloadError("a Meta webhook body has an entry list")
    return payload


def page_account(settings: Mapping[str, Any]) -> Account:
    return Account("page", account_ids(settings, "page_id"), IdentityKind.MESSENGER, "unknown_page")


def account_ids(settings: Mapping[str, Any], *names: str) -> frozenset[str]:
    return frozenset(str(settings[n]).strip() for n in names if str(settings.get(n) or "").strip())


def read_page_body(channel_id: int, settings: Mapping[str, Any], body: bytes) -> WebhookBatch:
    return read_body(channel_id, page_account(settings), meta_body(body), read_page_entry)


def read_body(
    channel_id: int, account: Account, payload: dict[str, Any], read_entry: EntryReader
) -> WebhookBatch:
    """Each entry of ``payload`` that belongs to ``account``, read by ``read_entry``."""
    if payload.get("object") != account.obj:
        reason = f"this channel takes object {account.obj!r} webhooks only"
        return _unsupported(f"object:{payload.get('object')}", reason)
    batch = WebhookBatch()
    for entry in payload["entry"]:
        if not isinstance(entry, dict):
            batch.extend(_unsupported("entry", "an entry that is not an object"))
        elif str(entry.get("id")) not in account.ids:
            reason = f"entry {entry.get('id')!r} is not this channel's account"
            batch.extend(_unsupported(account.unknown, reason))
        else:
            batch.extend(read_entry(channel_id, account, entry))
    return batch


def read_page_entry(channel_id: int, account: Account, entry: dict[str, Any]) -> WebhookBatch:
    batch = read_messaging(channel_id, account, entry)
    for change in entry.get("changes") or []:
        field = change.get("field") if isinstance(change, dict) else None
        batch.extend(_unsupported(f"changes:{field}", "page feed changes are not Messenger's"))
    return batch


def read_messaging(channel_id: int, account: Account, entry: dict[str, Any]) -> WebhookBatch:
    """The entry's ``messaging`` events (``standby`` ones belong to another app's thread)."""
    batch = WebhookBatch()
    for event in entry.get("messaging") or []:
        if isinstance(event, dict):
            batch.extend(read_event(channel_id, account, event))
        else:
            batch.extend(_unsupported("messaging", "an event that is not an object"))
    if entry.get("standby"):
        batch.extend(_unsupported("standby", "another app has control of these threads"))
    if not entry.get("messaging") and not entry.get("changes") and not entry.get("standby"):
        batch.extend(_unsupported("empty_entry", "an entry with no events"))
    return batch


def read_event(channel_id: int, account: Account, event: dict[str, Any]) -> WebhookBatch:
    for key, handler in EVENTS.items():
        if isinstance(event.get(key), dict):
            return handler(channel_id, account, event)
    kinds = [k for k in event if k not in {"sender", "recipient", "timestamp"}] or ["empty"]
    return _unsupported(kinds[0], "not an event Filrouge handles")


def _message(channel_id: int, account: Account, event: dict[str, Any]) -> WebhookBatch:
    message, sender, mid = event["message"], _sender_id(event), event["message"].get("mid")
    if message.get("is_echo") or sender in account.ids:
        return _unsupported("echo", "a message the account sent itself")
    if message.get("is_deleted"):
        return _unsupported("message_deleted", "the customer deleted a message")
    if not sender or not mid:
        return _unsupported("message", "a message without its sender or its mid")
    files, details = read_attachments(message.get("attachments"))
    replied = as_dict(message.get("reply_to"))
    inbound = NormalisedInbound(
        channel_id=channel_id,
        provider_message_id=str(mid),
        sender=Sender(account.identity_kind, sender, verified=False),
        text=str(message.get("text") or "") or _describe(details),
        attachments=files,
        in_reply_to=(str(replied["mid"]),) if replied.get("mid") else (),
        occurred_at=from_timestamp(event.get("timestamp")),
        details=_message_details(message, details) or None,
    )
    return WebhookBatch(messages=[inbound])


def _message_details(message: dict[str, Any], details: dict[str, Any]) -> dict[str, Any]:
    quick = message.get("quick_reply")
    if isinstance(quick, dict) and quick.get("payload") is not None:
        details["quick_reply"] = str(quick["payload"])
    if isinstance(message.get("reply_to"), dict):
        details["reply_to"] = message["reply_to"].get("mid")
    return details


def _postback(channel_id: int, account: Account, event: dict[str, Any]) -> WebhookBatch:
    """A button the customer pressed: its title (else its payload) is what they said."""
    postback, sender = event["postback"], _sender_id(event)
    mid = postback.get("mid") or (
        f"postback:{sender}:{event['timestamp']}" if event.get("timestamp") else None
    )
    if not sender or not mid:
        return _unsupported("postback", "a postback without its sender or a time to tell it by")
    details = {k: postback[k] for k in ("title", "payload") if postback.get(k) is not None}
    inbound = NormalisedInbound(
        channel_id=channel_id,
        provider_message_id=str(mid),
        sender=Sender(account.identity_kind, sender, verified=False),
        text=str(postback.get("title") or postback.get("payload") or ""),
        occurred_at=from_timestamp(event.get("timestamp")),
        details={"postback": details},
    )
    return WebhookBatch(messages=[inbound])


def _delivery(channel_id: int, account: Account, event: dict[str, Any]) -> WebhookBatch:
    """Messages delivered: those ``mids`` names, and every reply sent up to the watermark."""
    delivery = event["delivery"]
    mids = [str(m) for m in delivery.get("mids") or [] if m]
    return _receipts(channel_id, account, event, delivery, mids, DeliveryStatus.DELIVERED)


def _read(channel_id: int, account: Account, event: dict[str, Any]) -> WebhookBatch:
    """Messages read: the ``mid`` Instagram names, and every reply sent up to the watermark."""
    read = event["read"]
    mids = [str(read["mid"])] if read.get("mid") else [str(m) for m in read.get("mids") or [] if m]
    return _receipts(channel_id, account, event, read, mids, DeliveryStatus.READ)


def _receipts(
    channel_id: int,
    account: Account,
    event: dict[str, Any],
    receipt: dict[str, Any],
    mids: list[str],
    status: DeliveryStatus,
) -> WebhookBatch:
    watermark = from_timestamp(receipt.get("watermark"))
    when = watermark or from_timestamp(event.get("timestamp"))
    batch = WebhookBatch(statuses=[StatusUpdate(channel_id, mid, status, when) for mid in mids])
    person = _sender_id(event)
    if watermark is not None and person:
        reader = Recipient(account.identity_kind, person)
        batch.statuses.append(StatusUpdate(channel_id, "", status, watermark, None, reader))
    elif not mids:
        reason = "a receipt naming neither a message nor a time"
        batch.unsupported.append(Unsupported(f"{status}_receipt", reason))
    return batch


def read_attachments(
    attachments: Any,
) -> tuple[tuple[IncomingAttachment, ...], dict[str, Any]]:
    """Files (kept as their URL, fetched later) and what other attachments tell: links
    (``fallback``, shares), a location."""
    files: list[IncomingAttachment] = []
    details: dict[str, Any] = {}
    for attachment in attachments if isinstance(attachments, list) else []:
        if not isinstance(attachment, dict):
            continue
        kind = str(attachment.get("type") or "")
        payload = as_dict(attachment.get("payload"))
        if kind in MEDIA and payload.get("url"):
            files.append(_file(kind, str(payload["url"])))
        elif kind == "location" and isinstance(payload.get("coordinates"), dict):
            details["location"] = payload["coordinates"]
        else:
            details.setdefault("links", []).append(_link(kind, attachment, payload))
    return tuple(files), details


def _file(kind: str, url: str) -> IncomingAttachment:
    default_name, default_type = MEDIA[kind]
    name = PurePosixPath(urlsplit(url).path).name
    if not name or "." not in name:
        name = default_name
    guessed = mimetypes.guess_type(name)[0]
    return IncomingAttachment(name, guessed or default_type, url=url)


def _link(kind: str, attachment: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
    url = attachment.get("url") or attachment.get("URL") or payload.get("url")
    title = attachment.get("title") or payload.get("title")
    return {"type": kind, "title": title, "url": url}


def _describe(details: dict[str, Any]) -> str:
    """Words for a message without text: where the customer is, what they shared."""
    where = details.get("location")
    if where:
        return f"📍 {where.get('lat')}, {where.get('long')}"
    links = [str(link["url"]) for link in details.get("links", []) if link.get("url")]
    return "\n".join(links)


def _sender_id(event: dict[str, Any]) -> str | None:
    sender = event.get("sender")
    value = sender.get("id") if isinstance(sender, dict) else None
    return str(value) if value else None


def as_dict(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def _unsupported(event_type: str, reason: str) -> WebhookBatch:
    return WebhookBatch(unsupported=[Unsupported(event_type, reason)])


EVENTS: dict[str, Callable[[int, Account, dict[str, Any]], WebhookBatch]] = {
    "message": _message,
    "postback": _postback,
    "delivery": _delivery,
    "read": _read,
}
