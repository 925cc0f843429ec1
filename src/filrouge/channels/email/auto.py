"""Machine-written mail: auto-replies, bounces (delivery status notifications) and bulk mail.

``classify`` says what kind of automatic mail a message is, if any; ``bounce_details`` finds, in a
bounce, the recipients that failed and the Message-IDs of the messages that could not be
delivered, so the core can mark those outbound replies as failed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from email.parser import HeaderParser
from email.policy import compat32
from enum import StrEnum


class AutoKind(StrEnum):
    AUTO_REPLY = "auto_reply"
    BOUNCE = "bounce"
    BULK = "bulk"


@dataclass(frozen=True)
class Bounce:
    message_ids: tuple[str, ...] = ()
    recipients: tuple[str, ...] = ()


MAX_DEPTH = 50  # MIME nesting worth reading; deeper is a bomb, not a mail
_DAEMONS = {"mailer-daemon", "mailerdaemon", "mail-daemon"}
_BOUNCE_SUBJECT = re.compile(
    r"^\s*(?:undeliver|undelivered mail|delivery status notification|delivery failure"
    r"|delivery notification|mail delivery failed|mail system error|returned mail|failure notice"
    r"|non remis|non distribuable"
    r"|[ée]chec de (?:la )?remise|unzustellbar|nicht zustellbar)",
    re.IGNORECASE,
)
_AUTO_REPLY_SUBJECT = re.compile(
    r"^\s*(?:auto(?:matic)?[ -]?reply|auto(?:matic)? response|autoresponse|auto:|out of (?:the )?"
    r"office|r[ée]ponse automatique|absent du bureau|abwesenheitsnotiz|automatische antwort"
    r"|risposta automatica"
    r"|respuesta autom[áa]tica)",
    re.IGNORECASE,
)
_AUTO_REPLY_HEADERS = ("x-autoreply", "x-autorespond", "x-autoreply-from", "x-mail-autoreply")
_BULK_PRECEDENCE = {"bulk", "junk", "list"}
_MESSAGE_ID_LINE = re.compile(r"^\s*Message-ID\s*:\s*<([^<>\s]+)>", re.MULTILINE | re.IGNORECASE)
_ENCLOSED_TYPES = {
    "message/rfc822",
    "message/global",
    "message/rfc822-headers",
    "text/rfc822-headers",
}


def classify(message: Message, sender: str | None, subject: str | None) -> AutoKind | None:
    """The kind of automatic mail ``message`` is, or None for a mail written by a person."""
    if _is_bounce(message, sender, subject or ""):
        return AutoKind.BOUNCE
    if _is_auto_reply(message, subject or ""):
        return AutoKind.AUTO_REPLY
    if _header(message, "precedence").lower() in _BULK_PRECEDENCE:
        return AutoKind.BULK
    if _header(message, "list-unsubscribe") or _header(message, "list-id"):
        return AutoKind.BULK
    return None


def bounce_details(message: Message, text: str) -> Bounce:
    """Failed recipients and original Message-IDs of a bounce (empty for a mere delay)."""
    failed, delayed = _status_recipients(message)
    failed += _split_addresses(_header(message, "x-failed-recipients"))
    if delayed and not failed:
        return Bounce()
    ids = _enclosed_message_ids(message) or _MESSAGE_ID_LINE.findall(text)
    return Bounce(message_ids=_unique(ids), recipients=_unique(failed))


def _is_bounce(message: Message, sender: str | None, subject: str) -> bool:
    if _report_type(message) == "delivery-status" or _header(message, "x-failed-recipients"):
        return True
    if any(part.get_content_type() == "message/delivery-status" for part in _parts(message)):
        return True
    local_part = (sender or "").partition("@")[0].lower()
    if local_part in _DAEMONS:
        return True
    if not _BOUNCE_SUBJECT.match(subject):
        return False
    return local_part == "postmaster" or _header(message, "auto-submitted") != ""


def _is_auto_reply(message: Message, subject: str) -> bool:
    submitted = _header(message, "auto-submitted").lower()
    if submitted and not submitted.startswith("no"):
        return True
    if any(_header(message, name) for name in _AUTO_REPLY_HEADERS):
        return True
    if _header(message, "precedence").lower() == "auto_reply":
        return True
    # Read receipts and abuse reports are reports too, written by machines.
    return _report_type(message) not in ("", None) or bool(_AUTO_REPLY_SUBJECT.match(subject))


def _status_recipients(message: Message) -> tuple[list[str], list[str]]:
    failed: list[str] = []
    delayed: list[str] = []
    for part in _parts(message):
        if part.get_content_type() != "message/delivery-status":
            continue
        for fields in _recipient_blocks(part):
            recipient = _recipient(fields)
            action = fields.get("action", "").lower()
            status = fields.get("status", "")
            if action == "failed" or (not action and status.startswith("5")):
                failed.append(recipient)
            elif recipient:
                delayed.append(recipient)
    return [address for address in failed if address], delayed


def _recipient_blocks(part: Message) -> list[dict[str, str]]:
    """The per-recipient field blocks of a message/delivery-status part, read leniently."""
    payload = _payload(part)
    if isinstance(payload, list):
        text = "\n\n".join(_header_text(b) for b in payload if isinstance(b, Message))
    else:
        data = part.get_payload(decode=True)
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else str(payload)
    blocks = []
    unfolded = re.sub(r"\n[ \t]+", " ", text.replace("\r\n", "\n"))
    for chunk in re.split(r"\n\s*\n", unfolded):
        fields: dict[str, str] = {}
        for match in re.finditer(r"^([A-Za-z-]+)\s*:\s*(.*)$", chunk, re.MULTILINE):
            fields.setdefault(match.group(1).lower(), match.group(2).strip())
        if "final-recipient" in fields or "original-recipient" in fields:
            blocks.append(fields)
    return blocks


def _recipient(fields: dict[str, str]) -> str:
    value = fields.get("final-recipient") or fields.get("original-recipient") or ""
    address = value.partition(";")[2] or value
    return address.strip().strip("<>").strip()


def _enclosed_message_ids(message: Message) -> list[str]:
    ids = []
    for part in _parts(message):
        if part.get_content_type() in _ENCLOSED_TYPES:
            ids.extend(_MESSAGE_ID_LINE.findall(_header_text(_enclosed_headers(part))))
    return ids


def _enclosed_headers(part: Message) -> Message:
    payload = _payload(part)
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        return payload[0]
    data = part.get_payload(decode=True)
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else str(payload)
    return HeaderParser(policy=compat32).parsestr(text)


def _header_text(message: Message) -> str:
    return "\n".join(f"{name}: {value}" for name, value in message.raw_items())


def _parts(message: Message, depth: int = 0) -> Iterator[Message]:
    """Every part, without descending into enclosed messages (their reports are not ours)."""
    yield message
    if not message.is_multipart() or depth >= MAX_DEPTH:  # a leaf's payload is not even read
        return
    children = _payload(message)
    if message.get_content_type() != "message/rfc822" and isinstance(children, list):
        for part in children:
            yield from _parts(part, depth + 1)


def _payload(part: Message) -> list[Message] | str:
    try:
        payload = part.get_payload()
    except (ValueError, LookupError):  # a NUL in a charset parameter, for one
        return ""
    if isinstance(payload, list):
        return [item for item in payload if isinstance(item, Message)]
    return payload if isinstance(payload, str) else ""


def _report_type(message: Message) -> str | None:
    if message.get_content_type() != "multipart/report":
        return None
    value = message.get_param("report-type")
    return value.lower().strip() if isinstance(value, str) else ""


def _header(message: Message, name: str) -> str:
    for key, value in message.raw_items():
        if key.lower() == name:
            return str(value).strip()
    return ""


def _split_addresses(value: str) -> list[str]:
    return [item.strip().strip("<>") for item in value.split(",") if "@" in item]


def _unique(values: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(value.strip() for value in values if value.strip()))
