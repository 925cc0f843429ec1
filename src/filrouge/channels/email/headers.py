"""Header values read leniently: raw 8-bit bytes, RFC 2047 words in any charset, odd syntax.

Every value is taken from the raw header (``Message.raw_items``), never from the modern policy's
parsed objects, which raise on some malformed headers; a header no one can read becomes None or
an empty tuple, never an exception.
"""

from __future__ import annotations

import binascii
import re
from dataclasses import dataclass
from datetime import datetime
from email import base64mime, quoprimime
from email.errors import HeaderParseError
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime
from itertools import groupby
from typing import Any

from filrouge.channels.email.text import text_of
from filrouge.lib.timeutil import as_utc

_MSG_ID = re.compile(r"<([^<>]+)>")
# email.header's pattern for an RFC 2047 encoded word.
_ENCODED_WORD = re.compile(
    r"=\?(?P<charset>[^?]*?)\?(?P<encoding>[qQbB])\?(?P<encoded>.*?)\?=", re.MULTILINE
)


@dataclass(frozen=True)
class EmailAddress:
    address: str
    name: str | None = None


def raw_header(message: Message, name: str) -> str | None:
    """The first raw value of ``name``; 8-bit bytes read as UTF-8, else as the body's charset."""
    for key, value in message.raw_items():
        if key.lower() == name:
            return fix_8bit(str(value), message)
    return None


def fix_8bit(value: str, message: Message) -> str:
    if not re.search(r"[\udc80-\udcff]", value):
        return value
    data = value.encode("utf-8", "surrogateescape")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return text_of(data, _charset_hint(message))


def _charset_hint(message: Message) -> str | None:
    return next((charset for part in message.walk() if (charset := content_charset(part))), None)


def text_header(message: Message, name: str) -> str | None:
    raw = raw_header(message, name)
    return None if raw is None else decode_words(raw)


def decode_words(value: str) -> str:
    """RFC 2047 encoded words → text, whatever charset they claim."""
    unfolded = re.sub(r"\r?\n[ \t]*", " ", value)
    try:
        chunks = _decode_header(unfolded)
    except Exception:  # a malformed encoded word: keep the text as it came
        return unfolded.strip()
    decoded = "".join(
        text_of(chunk, charset) if charset else _plain_chunk(chunk) for chunk, charset in chunks
    )
    return decoded.replace("\x00", "").strip()


def _decode_header(header: str) -> list[tuple[Any, str | None]]:
    """``email.header.decode_header``, step for step, in linear time.

    The library pops words off the front of a list and concatenates bytes one word at a time:
    quadratic, 70 ms for a 200 kB subject of encoded words (flanker/long-header.eml).
    """
    if not _ENCODED_WORD.search(header):
        return [(header, None)]
    words: list[tuple[str, str | None, str | None]] = []
    for line in header.splitlines():
        parts = _ENCODED_WORD.split(line)  # unencoded, (charset, encoding, encoded, unencoded)*
        for index in range(0, len(parts), 4):
            unencoded = parts[index].lstrip() if index == 0 else parts[index]
            if unencoded:
                words.append((unencoded, None, None))
            if index + 1 < len(parts):
                charset, encoding, encoded = parts[index + 1 : index + 4]
                words.append((encoded, encoding.lower(), charset.lower()))
    # Whitespace between two encoded words goes.
    dropped = {
        n - 1
        for n, word in enumerate(words)
        if n > 1 and word[1] and words[n - 2][1] and words[n - 1][0].isspace()
    }
    decoded: list[tuple[bytes, str | None]] = []
    for n, (encoded, encoding, charset) in enumerate(words):
        if n in dropped:
            continue
        if encoding is None:
            word: str | bytes = encoded
        elif encoding == "q":
            word = quoprimime.header_decode(encoded)
        else:
            if len(encoded) % 4:  # Postel's law: add missing padding
                encoded += "==="[: 4 - len(encoded) % 4]
            try:
                word = base64mime.decode(encoded)
            except binascii.Error as error:
                raise HeaderParseError("Base64 decoding error") from error
        if isinstance(word, str):
            word = bytes(word, "raw-unicode-escape")
        decoded.append((word, charset))
    # Runs of words in the same charset make one chunk (unencoded ones joined by a space).
    collapsed: list[tuple[Any, str | None]] = []
    for charset, run in groupby(decoded, key=lambda item: item[1]):
        joiner = b" " if charset is None else b""
        collapsed.append((joiner.join(word for word, _ in run), charset))
    return collapsed


def _plain_chunk(chunk: str | bytes) -> str:
    if isinstance(chunk, str):
        return chunk
    return chunk.decode("raw-unicode-escape", "replace")


def addresses(message: Message, name: str) -> tuple[EmailAddress, ...]:
    raw = raw_header(message, name)
    if raw is None:
        return ()
    found = []
    for display, address in getaddresses([re.sub(r"\r?\n[ \t]*", " ", raw)]):
        address = address.strip()
        if "@" in address or (address and not display):
            found.append(EmailAddress(address, decode_words(display) or None))
    return tuple(found)


def sender_of(message: Message) -> EmailAddress | None:
    """From; for the rare mail without one, whoever else the headers name."""
    for name in ("from", "sender", "reply-to", "return-path"):
        found = addresses(message, name)
        if found:
            return found[0]
    return None


def message_ids(message: Message, name: str) -> tuple[str, ...]:
    raw = raw_header(message, name) or ""
    ids = [re.sub(r"\s+", "", found) for found in _MSG_ID.findall(raw)]
    if not ids and raw.strip():
        ids = [token.strip("<>") for token in raw.split() if "@" in token]
    return tuple(dict.fromkeys(i for i in ids if i))


def date_of(message: Message) -> datetime | None:
    raw = raw_header(message, "date")
    try:
        return as_utc(parsedate_to_datetime(raw)) if raw else None
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def content_charset(part: Message) -> str | None:
    try:
        return part.get_content_charset()
    except Exception:
        return None
