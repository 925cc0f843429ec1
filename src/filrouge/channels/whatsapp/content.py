"""What one WhatsApp Cloud API message says, by its ``type``: words for an agent, the files it
names (``whatsapp-media:<media id>``, fetched later) and the provider facts kept in ``details``.

Types read: text, image, video, audio (voice notes too), document, sticker, location, contacts,
interactive (button and list replies, flow answers), button (a template's quick reply),
reaction, order, system, edit, revoke (deleted) and unsupported. Anything else, and the
interactive replies that are not messages (call permissions), is ``Unsupported``.
"""

from __future__ import annotations

import json
import mimetypes
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from filrouge.channels.base import IncomingAttachment, Unsupported
from filrouge.core.models.enums import MessageFlag

MEDIA_REF = "whatsapp-media:"
MEDIA_KINDS = ("image", "video", "audio", "document", "sticker")
CAPTION_LESS = frozenset({"audio", "sticker"})
# What each system message tells, as the conversation page words it.
NOTICES = {
    "user_changed_number": "number_changed",
    "customer_changed_number": "number_changed",
    "customer_identity_changed": "identity_changed",
}
EXTENSIONS = {"audio/ogg": ".ogg", "image/jpeg": ".jpg", "audio/mpeg": ".mp3"}


@dataclass(frozen=True)
class Content:
    """A message's words, files and facts, and the provider ids it refers to."""

    text: str
    attachments: tuple[IncomingAttachment, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)
    refers_to: tuple[str, ...] = ()
    # A notice of the network rather than the customer's words (``system`` messages).
    flag: MessageFlag | None = None


Reader = Callable[[dict[str, Any], list[Any]], Content | Unsupported]


def read_content(message: dict[str, Any], errors: list[Any]) -> Content | Unsupported:
    """The content of ``message``; ``errors`` are the ones WhatsApp sent with it."""
    kind = str(message.get("type") or "")
    reader = READERS.get(kind)
    if reader is None:
        return Unsupported(kind or "message", "a WhatsApp message type Filrouge does not read")
    return reader(message, errors)


def describe_errors(errors: list[Any]) -> str:
    """WhatsApp's ``errors[]`` in words: title, message, details and code."""
    return "; ".join(_describe_error(e) for e in errors if isinstance(e, dict))


def _describe_error(error: dict[str, Any]) -> str:
    words = [str(error.get("title") or error.get("message") or "error")]
    if error.get("message") and error.get("message") != words[0]:
        words.append(str(error["message"]))
    data = error.get("error_data")
    if isinstance(data, dict) and data.get("details"):
        words.append(str(data["details"]))
    code = f" (code {error['code']})" if error.get("code") is not None else ""
    return ": ".join(words) + code


def _text(message: dict[str, Any], errors: list[Any]) -> Content:
    body = _dict(message, "text").get("body")
    return Content(str(body or ""))


def _media(message: dict[str, Any], errors: list[Any]) -> Content:
    kind = str(message["type"])
    media = _dict(message, kind)
    caption = "" if kind in CAPTION_LESS else str(media.get("caption") or "")
    details = {k: media[k] for k in ("voice", "animated") if media.get(k) is True}
    files = (_attachment(kind, media),) if media.get("id") else ()
    return Content(caption or ("" if files else f"[{kind}]"), files, details)


def _attachment(kind: str, media: dict[str, Any]) -> IncomingAttachment:
    content_type = str(media.get("mime_type") or "application/octet-stream")
    content_type = content_type.split(";")[0].strip() or "application/octet-stream"
    name = media.get("filename")
    if not isinstance(name, str) or not name:
        extension = EXTENSIONS.get(content_type) or mimetypes.guess_extension(content_type)
        name = kind + (extension or "")
    return IncomingAttachment(name, content_type, url=f"{MEDIA_REF}{media['id']}")


def _location(message: dict[str, Any], errors: list[Any]) -> Content:
    where = _dict(message, "location")
    lines = [str(where[k]) for k in ("name", "address") if where.get(k)]
    lines.append(f"📍 {where.get('latitude')}, {where.get('longitude')}")
    if where.get("url"):
        lines.append(str(where["url"]))
    return Content("\n".join(lines), details={"location": where})


def _contacts(message: dict[str, Any], errors: list[Any]) -> Content:
    cards = [c for c in message.get("contacts") or [] if isinstance(c, dict)]
    return Content("\n".join(_card(c) for c in cards) or "👤", details={"contacts": cards})


def _card(card: dict[str, Any]) -> str:
    name = _dict(card, "name").get("formatted_name") or _dict(card, "name").get("first_name")
    phones = [str(p.get("phone")) for p in card.get("phones") or [] if isinstance(p, dict)]
    return " ".join(["👤", str(name or ""), *phones]).strip()


def _interactive(message: dict[str, Any], errors: list[Any]) -> Content | Unsupported:
    interactive = _dict(message, "interactive")
    kind = str(interactive.get("type") or "")
    answer = _dict(interactive, kind)
    if kind in ("button_reply", "list_reply"):
        words = [str(answer[k]) for k in ("title", "description") if answer.get(k)]
        return Content("\n".join(words), details={"reply": {"id": answer.get("id"), "kind": kind}})
    if kind == "nfm_reply":
        return _flow_answer(answer)
    if not interactive and errors:
        return _unreadable("interactive", errors)
    return Unsupported(kind or "interactive", "an interactive reply that is not a message")


def _flow_answer(answer: dict[str, Any]) -> Content:
    try:
        fields = json.loads(str(answer.get("response_json") or "{}"))
    except ValueError:
        fields = {}
    fields = (
        {k: v for k, v in fields.items() if k != "flow_token"} if isinstance(fields, dict) else {}
    )
    lines = [f"{key}: {value}" for key, value in fields.items()]
    text = "\n".join(lines) or str(answer.get("body") or "")
    return Content(text, details={"flow": {"name": answer.get("name"), "answers": fields}})


def _button(message: dict[str, Any], errors: list[Any]) -> Content:
    button = _dict(message, "button")
    return Content(str(button.get("text") or ""), details={"button": button.get("payload")})


def _reaction(message: dict[str, Any], errors: list[Any]) -> Content:
    reaction = _dict(message, "reaction")
    target = reaction.get("message_id")
    emoji = str(reaction.get("emoji") or "")
    refers = (str(target),) if target else ()
    details = {"reaction": emoji or None, "reaction_to": target}
    return Content(emoji or "(reaction removed)", details=details, refers_to=refers)


def _order(message: dict[str, Any], errors: list[Any]) -> Content:
    order = _dict(message, "order")
    items = [i for i in order.get("product_items") or [] if isinstance(i, dict)]
    lines = [
        f"🛒 {i.get('quantity')} × {i.get('product_retailer_id')} — "
        f"{i.get('item_price')} {i.get('currency', '')}".rstrip()
        for i in items
    ]
    if order.get("text"):
        lines.append(str(order["text"]))
    return Content("\n".join(lines) or "🛒", details={"order": order})


def _system(message: dict[str, Any], errors: list[Any]) -> Content:
    """WhatsApp's notice, not the customer's words: a number changed (``user_changed_number``,
    ``customer_changed_number``: the new one is ``wa_id`` or ``new_wa_id``), or the
    customer's identity changed (``customer_identity_changed``: a new phone, a reinstall)."""
    system = _dict(message, "system")
    kind = str(system.get("type") or "")
    details: dict[str, Any] = {"system": system, "notice": NOTICES.get(kind, "other")}
    new_wa_id = str(system.get("new_wa_id") or system.get("wa_id") or "")
    if details["notice"] == "number_changed" and new_wa_id.isdigit():
        details["new_number"] = f"+{new_wa_id}"
        if str(message.get("from") or "").isdigit():
            details["previous_number"] = f"+{message['from']}"
    text = str(system.get("body") or kind or "system")
    return Content(text, details=details, flag=MessageFlag.SYSTEM)


def _edit(message: dict[str, Any], errors: list[Any]) -> Content | Unsupported:
    edit = _dict(message, "edit")
    original = edit.get("original_message_id")
    inner = read_content(_dict(edit, "message"), errors)
    if isinstance(inner, Unsupported) or not original:
        return Unsupported("edit", "an edit of a message Filrouge cannot read")
    details = {**inner.details, "edited": str(original)}
    return Content(inner.text, inner.attachments, details, (str(original), *inner.refers_to))


def _revoke(message: dict[str, Any], errors: list[Any]) -> Content:
    original = _dict(message, "revoke").get("original_message_id")
    refers = (str(original),) if original else ()
    return Content("🗑 (message deleted)", details={"deleted": original}, refers_to=refers)


def _unsupported(message: dict[str, Any], errors: list[Any]) -> Content:
    kind = str(_dict(message, "unsupported").get("type") or "unknown")
    return _unreadable(kind, [*(message.get("errors") or []), *errors])


def _unreadable(kind: str, errors: list[Any]) -> Content:
    """A message WhatsApp does not pass on: the agent still sees that the customer wrote."""
    reason = describe_errors(errors) or "WhatsApp did not pass this message on"
    return Content(f"⚠ [{kind}] {reason}", details={"unsupported": kind, "errors": errors})


def _dict(parent: dict[str, Any], key: str) -> dict[str, Any]:
    value = parent.get(key)
    return value if isinstance(value, dict) else {}


READERS: dict[str, Reader] = {
    "text": _text,
    **dict.fromkeys(MEDIA_KINDS, _media),
    "location": _location,
    "contacts": _contacts,
    "interactive": _interactive,
    "button": _button,
    "reaction": _reaction,
    "order": _order,
    "system": _system,
    "edit": _edit,
    "revoke": _revoke,
    "unsupported": _unsupported,
}
