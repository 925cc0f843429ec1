"""Raw mail bytes → ``ParsedEmail``: headers decoded, bodies chosen, attachments kept, replies cut.

Pure: no database, no web. Built on the standard library's ``email`` package with the modern
policy (each parsed header cached: ``_CachedPolicy``), and compat32 wherever the modern one
gives up on a malformed header. Headers are read from their raw values (``headers.py``), bodies
decoded leniently (``text.py``), replies cut (``quotes.py``), machine-written mail recognised
(``auto.py``): malformed headers, 8-bit bytes, unknown charsets and broken MIME degrade to a
best guess instead of an exception. Only bytes that are not a mail at all raise
``EmailUnreadable`` (the caller stores them raw and flags them).
"""

from __future__ import annotations

import binascii
import mimetypes
import quopri
import re
from dataclasses import dataclass, replace
from datetime import datetime
from email import policy
from email.generator import BytesGenerator
from email.headerregistry import HeaderRegistry
from email.message import Message
from email.parser import BytesParser
from email.policy import EmailPolicy
from email.utils import collapse_rfc2231_value
from functools import lru_cache
from io import BytesIO
from typing import Any

from filrouge.channels.base import IncomingAttachment
from filrouge.channels.email.auto import MAX_DEPTH, AutoKind, bounce_details, classify
from filrouge.channels.email.headers import (
    EmailAddress,
    addresses,
    content_charset,
    date_of,
    decode_words,
    fix_8bit,
    message_ids,
    raw_header,
    sender_of,
    text_header,
)
from filrouge.channels.email.quotes import visible_text
from filrouge.channels.email.text import html_to_text, text_of, unflow
from filrouge.lib.html import sanitise_html

__all__ = ["AutoKind", "EmailAddress", "EmailAttachment", "EmailUnreadable", "ParsedEmail"]


class EmailUnreadable(ValueError):
    """The bytes are not a mail (no header at all: an HTML page, an Outlook .msg, nothing)."""


@dataclass(frozen=True)
class EmailAttachment(IncomingAttachment):
    """An attachment; ``content_id`` (no angle brackets) resolves ``cid:`` links in the HTML."""

    content_id: str | None = None
    inline: bool = False


@dataclass(frozen=True)
class ParsedEmail:
    message_id: str | None
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    subject: str | None
    sender: EmailAddress | None
    to: tuple[EmailAddress, ...]
    cc: tuple[EmailAddress, ...]
    reply_to: tuple[EmailAddress, ...]
    date: datetime | None
    text: str
    raw_html: str | None  # as the mail has it: never to be shown (``html`` is)
    visible_text: str
    attachments: tuple[EmailAttachment, ...]
    auto: AutoKind | None
    bounced_message_ids: tuple[str, ...]
    bounce_recipients: tuple[str, ...]

    @property
    def html(self) -> str | None:
        """The HTML, sanitised (``lib/html.py``): safe to show."""
        return sanitise_html(self.raw_html)

    def attachment_for_cid(self, content_id: str) -> EmailAttachment | None:
        """The inline part a ``cid:`` link in the HTML points to."""
        wanted = content_id.removeprefix("cid:").strip("<>")
        return next((a for a in self.attachments if a.content_id == wanted), None)


@dataclass
class _Bodies:
    texts: list[str]
    htmls: list[str]
    attachments: list[EmailAttachment]


_HEADER_LINE = re.compile(rb"^[!-9;-~]+:")
_OBSOLETE_HEADER_LINE = re.compile(rb"^([!-9;-~]+)[ \t]+:")


class _CachedPolicy(EmailPolicy):
    """``policy.default``, but each header value is parsed once, not on every read, and the
    plainest MIME parameters are not parsed at all.

    The library reads Content-Type some thirty times a mail (while parsing, and in every
    ``get_content_type``), and its header parser made two thirds of ``parse_email``'s time. Its
    header objects are immutable, so a parsed one can be handed out again: the same objects as
    ``policy.default`` returns, a fraction of the time. The cache is small (a parsed header
    weighs some 16 kB) and skips long values.

    Most Content-Type and Content-Disposition values are new to the cache (each mail has its
    own boundary, its own file names), and need no parser: printable ASCII tokens and quoted
    strings, no RFC 2231 ``*``, no encoded word, no comment. Those are handed out as the plain
    string, which every ``Message`` method we (and the feed parser) call reads exactly as it
    reads the parsed header — checked on every such value of the shared mails.
    """

    def header_fetch_parse(self, name: str, value: str) -> Any:
        if hasattr(value, "name"):
            return value
        value = value.replace("\r", "").replace("\n", "")  # as EmailPolicy does
        if name.lower() in _MIME_PARAMETER_HEADERS and _PLAIN_PARAMETERS.fullmatch(value):
            return value
        if len(value) > _CACHED_VALUE_LENGTH:
            return _header_class(name.lower())(name, value)
        return _parsed_header(name, value)


_MIME_PARAMETER_HEADERS = frozenset({"content-type", "content-disposition"})
_TOKEN = r"[!#$%&'+\-.0-9A-Z^_`a-z{|}~]+"  # RFC 2045, without RFC 2231's "*"
_QUOTED = r'"(?:[ !#-<>-\[\]-~]|=(?!\?))*"'  # printable ASCII: no backslash, no encoded word
_PLAIN_PARAMETERS = re.compile(
    rf"{_TOKEN}(?:/{_TOKEN})?(?:[ \t]*;[ \t]*{_TOKEN}=(?:{_TOKEN}|{_QUOTED}))*[ \t]*;?[ \t]*"
)
_CACHED_VALUE_LENGTH = 1000


@lru_cache(maxsize=256)
def _parsed_header(name: str, value: str) -> Any:
    return _header_class(name.lower())(name, value)


@lru_cache(maxsize=256)
def _header_class(name: str) -> Any:
    """What ``policy.default.header_factory`` would use (it builds a new class on every call)."""
    registry: HeaderRegistry = policy.default.header_factory  # type: ignore[assignment]
    return registry[name]


_PARSER = BytesParser(policy=_CachedPolicy())
_COMPAT_PARSER = BytesParser(policy=policy.compat32)
_MISSING_SEPARATOR = "MissingHeaderBodySeparatorDefect"
# At least one of these, or the bytes are not a mail.
_MAIL_HEADERS = {"from", "to", "cc", "subject", "date", "message-id", "received", "return-path"}
_MAIL_HEADERS |= {"sender", "reply-to", "delivered-to", "in-reply-to", "references"}
_MAIL_HEADERS |= {"mime-version", "content-type", "content-transfer-encoding"}


def parse_email(raw: bytes) -> ParsedEmail:
    """Parse one mail as received (RFC 5322 bytes, with or without an mbox ``From `` line)."""
    message = _message(raw, _PARSER)
    try:
        return _parsed(message)
    except Exception:  # the modern policy gave up on a malformed header while reading it
        return _parsed(_message(raw, _COMPAT_PARSER))


def _parsed(message: Message) -> ParsedEmail:
    _repair_multiparts(message)
    sender = sender_of(message)
    subject = text_header(message, "subject")
    bodies = _Bodies([], [], [])
    _collect(message, bodies)
    html = "\n".join(bodies.htmls) if bodies.htmls else None
    text = "\n\n".join(t for t in bodies.texts if t.strip()) or html_to_text(html or "")
    auto = classify(message, sender.address if sender else None, subject)
    bounce = bounce_details(message, text) if auto is AutoKind.BOUNCE else None
    return ParsedEmail(
        message_id=next(iter(message_ids(message, "message-id")), None),
        in_reply_to=message_ids(message, "in-reply-to"),
        references=message_ids(message, "references"),
        subject=subject,
        sender=sender,
        to=addresses(message, "to"),
        cc=addresses(message, "cc"),
        reply_to=addresses(message, "reply-to"),
        date=date_of(message),
        text=text,
        raw_html=html,
        visible_text=visible_text(text) if auto is None else text.strip(),
        attachments=tuple(_mark_inline(a, html) for a in bodies.attachments),
        auto=auto,
        bounced_message_ids=bounce.message_ids if bounce else (),
        bounce_recipients=bounce.recipients if bounce else (),
    )


# --- the message --------------------------------------------------------------------------------


def _message(raw: bytes, parser: BytesParser[Any]) -> Message:
    if not raw.strip():
        raise EmailUnreadable("empty")
    message = _parse(raw, parser)
    if _MISSING_SEPARATOR in (type(defect).__name__ for defect in message.defects):
        repaired = _parse(_repair_header_block(raw), parser)
        if _looks_like_headers(raw) and len(repaired.keys()) > len(message.keys()):
            message = repaired
    if not {key.lower() for key in message} & _MAIL_HEADERS:
        raise EmailUnreadable("no mail header fields: not a mail")
    return message


def _parse(raw: bytes, parser: BytesParser[Any] = _PARSER) -> Message:
    """The modern policy, or compat32 where the modern header parser gives up."""
    try:
        return parser.parsebytes(raw)
    except RecursionError as error:
        raise EmailUnreadable("parts nested too deep for the email package") from error
    except Exception:
        return _COMPAT_PARSER.parsebytes(raw)


def _looks_like_headers(raw: bytes) -> bool:
    first = raw.lstrip(b"\r\n")[:200]
    return bool(
        _HEADER_LINE.match(first) or _OBSOLETE_HEADER_LINE.match(first)
    ) or first.startswith(b"From ")


def _repair_header_block(raw: bytes) -> bytes:
    """Drop junk lines from the header block and accept RFC 822's ``Name  :`` spelling."""
    end = re.search(rb"\r?\n\r?\n", raw)
    head, rest = (raw[: end.start()], raw[end.start() :]) if end else (raw, b"")
    lines = []
    for number, line in enumerate(head.splitlines(keepends=True)):
        if _HEADER_LINE.match(line) or line[:1] in (b" ", b"\t"):
            lines.append(line)
        elif _OBSOLETE_HEADER_LINE.match(line):
            lines.append(_OBSOLETE_HEADER_LINE.sub(rb"\1:", line, count=1))
        elif number == 0 and line.startswith(b"From "):
            lines.append(line)
    return b"".join(lines) + rest


# --- bodies and attachments ------------------------------------------------------------------


def _collect(part: Message, bodies: _Bodies, depth: int = 0) -> None:
    ctype = part.get_content_type()
    if depth > MAX_DEPTH:
        return  # a nesting bomb: no mail written by anyone goes this deep
    if ctype.startswith("multipart/") and not part.is_multipart():
        bodies.texts.append(_body_text(part))  # no usable boundary: the body as it is
    elif ctype == "multipart/alternative":
        _collect_alternatives(part, bodies, depth)
    elif part.is_multipart() and ctype.startswith("multipart/"):
        for child in _children(part):
            _collect(child, bodies, depth + 1)
    else:
        try:
            _collect_leaf(part, ctype, bodies)
        except Exception:  # a part broken beyond what the library forgives: keep its bytes
            raw = str(_payload(part)).encode("utf-8", "surrogateescape")
            bodies.attachments.append(EmailAttachment("part.bin", ctype, raw))


def _collect_leaf(part: Message, ctype: str, bodies: _Bodies) -> None:
    if _is_body(part, ctype):
        target = bodies.htmls if ctype == "text/html" else bodies.texts
        target.append(_body_text(part))
    else:
        bodies.attachments.append(_attachment(part, ctype))


def _collect_alternatives(part: Message, bodies: _Bodies, depth: int) -> None:
    """Text from the plainest alternative that has some, HTML from the richest."""
    found = []
    for child in _children(part):
        alternative = _Bodies([], [], [])
        _collect(child, alternative, depth + 1)
        found.append(alternative)
    texts = next((a.texts for a in found if any(t.strip() for t in a.texts)), [])
    htmls = next((a.htmls for a in reversed(found) if a.htmls), [])
    bodies.texts += texts or [html_to_text("\n".join(htmls))]
    bodies.htmls += htmls
    for alternative in found:
        bodies.attachments += alternative.attachments


def _repair_multiparts(part: Message, depth: int = 0) -> None:
    """A multipart whose declared boundary is missing or unused gets the one its body uses."""
    if not part.is_multipart() and part.get_content_maintype() == "multipart":
        body = str(_payload(part))
        found = re.search(r"^--([^\s]+?)(?:--)?[ \t]*\r?$", body, re.MULTILINE)
        if found and found.group(1) != part.get_boundary():
            head = f'Content-Type: multipart/mixed; boundary="{found.group(1)}"\n\n'
            data = head.encode() + body.encode("utf-8", "surrogateescape")
            recovered = _parse(data)
            if recovered.is_multipart():
                part.set_payload(recovered.get_payload())
    for child in _children(part):
        if depth < MAX_DEPTH:
            _repair_multiparts(child, depth + 1)


def _payload(part: Message) -> list[Message] | str:
    """The undecoded payload; "" when the library cannot even give that (a NUL in a charset)."""
    try:
        payload = part.get_payload()
    except (ValueError, LookupError):
        return ""
    if isinstance(payload, list):
        return [item for item in payload if isinstance(item, Message)]
    return payload if isinstance(payload, str) else ""


def _children(part: Message) -> list[Message]:
    if not part.is_multipart():  # asked first: get_payload() of a leaf re-encodes its body
        return []
    return [item for item in part.get_payload() if isinstance(item, Message)]


def _is_body(part: Message, ctype: str) -> bool:
    if ctype not in ("text/plain", "text/html"):
        return False
    disposition = _disposition(part)
    return disposition != "attachment" and not (disposition == "inline" and _filename(part))


def _body_text(part: Message) -> str:
    data = _payload_bytes(part)
    text = text_of(data, content_charset(part)).replace("\r\n", "\n").replace("\x00", "")
    if part.get_content_type() == "text/plain" and _param(part, "format") == "flowed":
        return unflow(text, delete_space=_param(part, "delsp") == "yes")
    return text


def _attachment(part: Message, ctype: str) -> EmailAttachment:
    content_id = raw_header(part, "content-id")
    return EmailAttachment(
        filename=_filename(part) or _default_filename(part, ctype),
        content_type=ctype,
        content=_payload_bytes(part),
        content_id=content_id.strip().strip("<>").strip() if content_id else None,
        inline=_disposition(part) == "inline",
    )


def _mark_inline(attachment: EmailAttachment, html: str | None) -> EmailAttachment:
    """An attachment the HTML shows through ``cid:`` is inline, whatever its disposition."""
    cid = attachment.content_id
    if attachment.inline or not cid or not html or f"cid:{cid}" not in html:
        return attachment
    return replace(attachment, inline=True)


def _payload_bytes(part: Message) -> bytes:
    if part.get_content_type() == "message/rfc822" or part.is_multipart():
        return _enclosed_bytes(part)
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


def _enclosed_bytes(part: Message) -> bytes:
    """An enclosed message as bytes (some mailers base64 it, though RFC 2046 forbids that)."""
    data = b"\n".join(_as_bytes(child) for child in _children(part))
    encoding = (raw_header(part, "content-transfer-encoding") or "").strip().lower()
    if encoding == "base64":
        return _lenient_base64(data)
    if encoding == "quoted-printable":
        return quopri.decodestring(data)
    return data


def _lenient_base64(data: bytes) -> bytes:
    letters = re.sub(rb"[^A-Za-z0-9+/]", b"", data)
    letters = letters[: len(letters) - len(letters) % 4 if len(letters) % 4 == 1 else None]
    try:
        return binascii.a2b_base64(letters + b"=" * (-len(letters) % 4))
    except binascii.Error:
        return data


def _as_bytes(message: Message) -> bytes:
    """``message.as_bytes(policy=compat32)``, the same bytes, faster (``_Flattener``)."""
    out = BytesIO()
    try:
        _Flattener(out, mangle_from_=False, policy=policy.compat32).flatten(message)
    except Exception:  # a header the generator cannot write back: keep what we can
        return str(message).encode("utf-8", "surrogateescape")
    return out.getvalue()


class _Flattener(BytesGenerator):
    """compat32's generator, but a header it would write back unchanged (lines of printable
    ASCII short enough not to be folded again) is written as it is, without its folding
    machinery: that made two thirds of the time an enclosed message (a bounce's, a forward's)
    took to write back."""

    def _write_headers(self, msg: Message) -> None:
        this: Any = self  # the generator's own fields (_fp, _NL), unknown to typeshed
        limit = this.policy.max_line_length or 0
        for name, value in msg.raw_items():
            written = _as_compat32_writes(name, value, limit, this._NL)
            this._fp.write(written or this.policy.fold_binary(name, value))
        self.write(this._NL)


def _as_compat32_writes(name: str, value: object, limit: int, newline: str) -> bytes | None:
    """``name: value`` as compat32 writes it when it leaves it alone, else None (checked
    against its own folding on every header of the shared mails and 500,000 made-up ones)."""
    if not isinstance(value, str) or not name.isascii():
        return None
    first, *more = value.splitlines() or [""]
    if len(name) + 2 + len(first) > limit or not _plain_line(first):
        return None
    for line in more:  # already folded: each continuation line kept, if short and plain
        text = line.lstrip(" \t")
        if text == line or len(line) > limit or not _plain_line(text):
            return None
    return newline.join([f"{name}: {first}", *more, ""]).encode("ascii")


def _plain_line(text: str) -> bool:
    return bool(_PLAIN_LINE.fullmatch(text)) and "  " not in text


_PLAIN_LINE = re.compile(r"[!-~](?:[ !-~]*[!-~])?")  # printable ASCII, no space at either end


def _filename(part: Message) -> str | None:
    try:
        name = part.get_filename() or part.get_param("name")
    except Exception:  # a broken RFC 2231 parameter
        name = None
    if isinstance(name, tuple):  # an RFC 2231 value the library left encoded
        name = collapse_rfc2231_value(name)
    if not isinstance(name, str) or not name.strip():
        return None
    name = _unquoted_name(part, name)
    return decode_words(fix_8bit(name, part)).replace("/", "_").replace("\\", "_") or None


def _unquoted_name(part: Message, name: str) -> str:
    """``filename=This is a test.txt``: a name with spaces that its sender forgot to quote."""
    for header in ("content-disposition", "content-type"):
        found = re.search(
            r"\b(?:file)?name\s*=\s*([^\";\r\n][^\";\r\n]*)", raw_header(part, header) or ""
        )
        if found and found.group(1).strip().startswith(name) and " " in found.group(1).strip():
            return found.group(1).strip()
    return name


def _default_filename(part: Message, ctype: str) -> str:
    maintype, _, subtype = ctype.partition("/")
    if ctype == "message/rfc822":
        children = _children(part)
        subject = text_header(children[0], "subject") if children else None
        return f"{subject or 'message'}.eml".replace("/", "_")
    if maintype == "message" or subtype == "rfc822-headers":
        return f"{subtype}.txt"
    extension = mimetypes.guess_extension(ctype) or ".bin"
    return ("image" if maintype == "image" else "attachment") + extension


def _disposition(part: Message) -> str | None:
    try:
        return part.get_content_disposition()
    except Exception:
        return None


def _param(part: Message, name: str) -> str:
    value = part.get_param(name)
    return value.lower() if isinstance(value, str) else ""
