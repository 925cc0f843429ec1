"""Email channel, outbound: each reply is a real mail sent by SMTP (aiosmtplib).

Settings of an email channel account:
``address`` (the support address, From and the match for inbound mail), ``from_name``,
``smtp_host``, ``smtp_port`` (default 587), ``smtp_security`` (``starttls`` by default, ``tls``
or ``none``), ``smtp_username``, ``smtp_password``.

The reply carries its own ``Message-ID`` (returned as the provider id), and ``In-Reply-To`` /
``References`` naming the customer's mails, so that the customer's answer comes back into the
same conversation. Text and HTML parts; the reply's files as attachments.
"""

from __future__ import annotations

import asyncio
import html
import secrets
import threading
from collections.abc import Coroutine
from email.message import EmailMessage
from email.utils import formataddr
from typing import Any, ClassVar, TypeVar

import aiosmtplib

from filrouge.channels.base import ChannelAdapter, DeliveryError, OutboundMessage
from filrouge.core.models.enums import ChannelKind, IdentityKind

SMTP_TIMEOUT = 30.0
T = TypeVar("T")


class EmailAdapter(ChannelAdapter):
    kind: ClassVar[str] = ChannelKind.EMAIL
    identity_kinds: ClassVar[frozenset[str]] = frozenset({IdentityKind.EMAIL})

    def send(self, message: OutboundMessage) -> str | None:
        settings = message.channel_settings
        if not settings.get("smtp_host") or not settings.get("address"):
            raise DeliveryError("this email channel has no smtp_host or address", permanent=True)
        if message.recipient.kind != IdentityKind.EMAIL or not message.recipient.value:
            raise DeliveryError("the customer has no email address to write to", permanent=True)
        mail = build_mail(message)
        _run(_deliver(mail, settings))
        return str(mail["Message-ID"]).strip("<>")


def build_mail(message: OutboundMessage) -> EmailMessage:
    settings = message.channel_settings
    address = str(settings["address"])
    mail = EmailMessage()
    mail["From"] = formataddr((str(settings.get("from_name") or ""), address))
    mail["To"] = formataddr((message.recipient.name or "", message.recipient.value))
    mail["Subject"] = reply_subject(message.subject)
    mail["Message-ID"] = message_id_for(message.message_id, address.split("@")[-1])
    references = [ref for ref in message.references if ref]
    if message.in_reply_to and message.in_reply_to not in references:
        references.append(message.in_reply_to)
    if message.in_reply_to:
        mail["In-Reply-To"] = f"<{message.in_reply_to}>"
    if references:
        mail["References"] = " ".join(f"<{ref}>" for ref in references[-20:])
    mail["Auto-Submitted"] = "no"
    mail.set_content(message.text)
    mail.add_alternative(text_as_html(message.text), subtype="html")
    for file in message.attachments:
        if file.content is None:
            continue  # a file kept elsewhere (url) is not fetched to be mailed
        maintype, _, subtype = file.content_type.partition("/")
        mail.add_attachment(
            file.content,
            maintype=maintype or "application",
            subtype=subtype or "octet-stream",
            filename=file.filename,
        )
    return mail


def message_id_for(message_id: int, domain: str) -> str:
    """Unique, and short enough never to be folded over two lines."""
    return f"<fr.{message_id}.{secrets.token_hex(6)}@{domain}>"


def reply_subject(subject: str | None) -> str:
    subject = " ".join((subject or "").split())
    if not subject:
        return "Re:"
    return subject if subject.lower().startswith(("re:", "re :")) else f"Re: {subject}"


def text_as_html(text: str) -> str:
    """The reply's words as simple HTML paragraphs; nothing the agent typed becomes markup."""
    paragraphs = [p for p in text.split("\n\n") if p.strip()]
    body = "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)
    return f'<!doctype html><html><body style="font-family:sans-serif">{body}</body></html>'


async def _deliver(mail: EmailMessage, settings: dict[str, Any]) -> None:
    security = str(settings.get("smtp_security") or "starttls")
    try:
        await aiosmtplib.send(
            mail,
            hostname=str(settings["smtp_host"]),
            port=int(settings.get("smtp_port") or (465 if security == "tls" else 587)),
            username=settings.get("smtp_username") or None,
            password=settings.get("smtp_password") or None,
            use_tls=security == "tls",
            start_tls=security == "starttls",
            timeout=SMTP_TIMEOUT,
        )
    except aiosmtplib.SMTPRecipientsRefused as exc:
        raise DeliveryError(f"the recipient was refused: {exc}", permanent=True) from exc
    except aiosmtplib.SMTPResponseException as exc:
        permanent = 500 <= exc.code < 600
        raise DeliveryError(f"SMTP {exc.code}: {exc.message}", permanent=permanent) from exc
    except (aiosmtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"SMTP server unreachable: {exc.__class__.__name__}") from exc


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` to its end from synchronous code, even inside a running event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = asyncio.run(coroutine)
        except BaseException as exc:  # re-raised in the caller's thread
            outcome["error"] = exc

    worker = threading.Thread(target=target)
    worker.start()
    worker.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
