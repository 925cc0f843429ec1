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

_WORD = r'[^\s()<>@,:;"\[\]\\]+'  # what getaddresses reads as one word
_PLAIN_ADDRESS = re.compile(
    rf'[ \t]*(?:({_WORD}(?:[ \t]+{_WORD})*)[ \t]*|"([^"\\\r\n]*)"[ \t]*)?<({_WORD}@{_WORD})>[ \t]*'
    rf"|[ \t]*({_WORD}@{_WORD})[ \t]*"
)
_FOLD = re.compile(r"\n[ \t]*")  # after \r\n → \n: what \r?\n[ \t]* matches, found faster
# Where binascii.a2b_qp would read a Q word differently from quoprimime.header_decode (and \r
# or \n, see _odd_q).
_ODD_Q_ESCAPE = re.compile(r"=(?![0-9A-Fa-f]{2})")
_Q_WORDS_ONLY = re.compile(r"(?:[ \t]*=\?[^?]*\?[qQ]\?[^?]*\?=)+[ \t]*")
_Q_WORD = re.compile(r"=\?([^?]*)\?[qQ]\?([^?]*)\?=")


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
    unfolded = _FOLD.sub(" ", value.replace("\r\n", "\n")) if "\n" in value else value
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
    at_once = _q_words_at_once(header)
    if at_once is not None:
        return at_once
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
            word = _q_decode(encoded)
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


def _q_words_at_once(header: str) -> list[tuple[Any, str | None]] | None:
    """A header of nothing but "Q" words in one charset (a long subject folded into thousands
    of them), decoded in one call instead of word by word; None for any other header.

    The same bytes as word by word: the whitespace between the words goes, and since every
    ``=`` of every word is followed by two hex digits of that word, no escape spans two words.
    """
    if not _Q_WORDS_ONLY.fullmatch(header):
        return None
    names, encoded = zip(*_Q_WORD.findall(header), strict=True)
    charsets = {name.lower() for name in set(names)}
    if len(charsets) != 1 or _odd_q(" ".join(encoded)):
        return None
    data = "".join(encoded).encode("raw-unicode-escape")
    return [(binascii.a2b_qp(data, header=True), charsets.pop())]


def _odd_q(encoded: str) -> bool:
    return "\r" in encoded or "\n" in encoded or bool(_ODD_Q_ESCAPE.search(encoded))


def _q_decode(encoded: str) -> bytes:
    """An RFC 2047 "Q" word's bytes: binascii's C decoder where it agrees with the library's
    (every ``=`` followed by two hex digits), the library's own otherwise."""
    if _odd_q(encoded):
        return bytes(quoprimime.header_decode(encoded), "raw-unicode-escape")
    return binascii.a2b_qp(encoded.encode("raw-unicode-escape"), header=True)


def _plain_chunk(chunk: str | bytes) -> str:
    if isinstance(chunk, str):
        return chunk
    return chunk.decode("raw-unicode-escape", "replace")


def addresses(message: Message, name: str) -> tuple[EmailAddress, ...]:
    raw = raw_header(message, name)
    if raw is None:
        return ()
    found = []
    for display, address in _address_list(re.sub(r"\r?\n[ \t]*", " ", raw)):
        address = address.strip()
        if "@" in address or (address and not display):
            found.append(EmailAddress(address, decode_words(display) or None))
    return tuple(found)


def _address_list(value: str) -> list[tuple[str, str]]:
    """``email.utils.getaddresses([value])``; the one plain address most headers hold (``Name
    <a@b>``, ``"Name" <a@b>``, ``a@b``) read by one pattern, to the same result."""
    plain = _PLAIN_ADDRESS.fullmatch(value)
    if plain is None:
        return getaddresses([value])
    words, quoted, address, bare = plain.groups()
    if bare is not None:
        return [("", bare)]
    return [(quoted if quoted is not None else " ".join((words or "").split()), address)]


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
