"""Email channel, inbound: one raw mail (as SMTP, IMAP or a relay's HTTP hook hand it over)
into the normalised message the pipeline stores.

Nothing that reached us is dropped: a mail that cannot be parsed, or whose sender cannot be
read, is kept raw and flagged ``unreadable``. Every mail keeps its original source as an
attachment (``original.eml``) that agents can open. Over-long text is cut (the original
still has it all); an attachment over the limit refuses the mail with a reason, so the
sending server bounces it to its sender.
"""

from __future__ import annotations

import hashlib
import logging
import re

from filrouge.channels.base import IncomingAttachment, NormalisedInbound, Sender
from filrouge.channels.email.parse import ParsedEmail, parse_email
from filrouge.core.errors import DomainError, TooLarge
from filrouge.core.identity import normalise_email
from filrouge.core.models.enums import IdentityKind, MessageFlag
from filrouge.lib.html import sanitise_html
from filrouge.settings import Settings

log = logging.getLogger(__name__)
ORIGINAL_NAME = "original.eml"
_FROM_LINE = re.compile(rb"^From:[^\r\n]*?([\w.+-]+@[\w-]+(?:\.[\w-]+)+)", re.M | re.I)


def max_mail_bytes(settings: Settings) -> int:
    """The largest raw mail taken: its original is kept as an attachment, so no mail over the
    attachment limit can be stored (nor one over the request limit, as over HTTP)."""
    return min(settings.max_attachment_bytes, settings.max_request_bytes)


def check_mail_size(size: int, settings: Settings) -> None:
    """Refuse, before anything reads it, a mail too large to be stored (as the pipeline would,
    its original being an attachment over the limit)."""
    limit = max_mail_bytes(settings)
    if size > limit:
        raise TooLarge(
            "attachment_too_large",
            "An attachment is larger than {limit} bytes.",
            field="attachments",
            limit=limit,
        )


def normalised_mail(channel_id: int, raw: bytes, settings: Settings) -> NormalisedInbound:
    original = IncomingAttachment(ORIGINAL_NAME, "message/rfc822", content=raw)
    try:
        parsed = parse_email(raw)
        sender = _sender(parsed)
    except Exception:  # any parser failure: keep the mail raw, never lose it
        log.warning("a mail of %d bytes could not be read; kept raw", len(raw), exc_info=True)
        return unreadable_mail(channel_id, raw, original)
    if sender is None:
        return unreadable_mail(channel_id, raw, original)
    return NormalisedInbound(
        channel_id=channel_id,
        provider_message_id=parsed.message_id or raw_id(raw),
        sender=sender,
        text=_cut(parsed.visible_text or parsed.text, settings.max_text_bytes),
        html=_html_within(parsed.raw_html, settings.max_html_bytes),
        attachments=(*parsed.attachments, original),
        in_reply_to=tuple(dict.fromkeys((*parsed.in_reply_to, *reversed(parsed.references)))),
        occurred_at=parsed.date,
        subject=parsed.subject,
        flag=MessageFlag(parsed.auto) if parsed.auto else None,
        bounced_provider_ids=parsed.bounced_message_ids,
    )


def unreadable_mail(channel_id: int, raw: bytes, original: IncomingAttachment) -> NormalisedInbound:
    """A mail kept as it came, in a conversation of its own, for a person to read."""
    digest = hashlib.sha256(raw).hexdigest()
    found = _FROM_LINE.search(raw[: 64 * 1024])
    address = found.group(1).decode("ascii", "replace") if found else None
    return NormalisedInbound(
        channel_id=channel_id,
        provider_message_id=raw_id(raw),
        sender=Sender(
            IdentityKind.EMAIL,
            _readable_address(address) or f"unreadable+{digest[:16]}@invalid.invalid",
        ),
        text="",
        attachments=(original,),
        flag=MessageFlag.UNREADABLE,
    )


def raw_id(raw: bytes) -> str:
    """The key of a mail without a Message-ID: its content, so a retried delivery is a duplicate."""
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def _sender(parsed: ParsedEmail) -> Sender | None:
    if parsed.sender is None:
        return None
    address = _readable_address(parsed.sender.address)
    if address is None:
        return None
    # Unverified: anyone can write any From. Linking to a known customer needs more proof.
    return Sender(IdentityKind.EMAIL, address, parsed.sender.name or None, verified=False)


def _readable_address(address: str | None) -> str | None:
    if not address:
        return None
    try:
        return normalise_email(address)
    except DomainError:
        return None


def _html_within(html: str | None, limit: int) -> str | None:
    """The mail's HTML for the pipeline, which sanitises it (once, as every channel's). Over the
    limit as sent, it is sanitised here first: what is left may fit (styles, scripts gone)."""
    if html is None or len(html.encode()) <= limit:
        return html
    safe = sanitise_html(html)
    return safe if safe is not None and len(safe.encode()) <= limit else None


def _cut(text: str, limit: int) -> str:
    encoded = text.encode()
    if len(encoded) <= limit:
        return text
    return encoded[: limit - 8].decode("utf-8", "ignore") + "\n[…]"
