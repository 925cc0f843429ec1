"""Files that agents attach to their replies: counted, weighed, named and typed before any byte
is stored.

A file's declared type is a claim, never the truth: an image or video type is kept only when
the bytes say so (their first bytes, sniffed here), and types a browser could run as a page
(HTML, SVG, XML, scripts) are stored as ``application/octet-stream``. ``inline_type`` tells the
web layer which stored types may be shown in a page rather than downloaded.
"""

from __future__ import annotations

import mimetypes
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from filrouge.core.errors import Invalid, TooLarge

GENERIC_TYPE = "application/octet-stream"
MAX_FILENAME = 200
# Types a browser could run as a document: never kept as declared.
ACTIVE_TYPES = frozenset(
    {
        "text/html",
        "application/xhtml+xml",
        "image/svg+xml",
        "text/xml",
        "application/xml",
        "text/xsl",
        "text/javascript",
        "application/javascript",
        "application/x-javascript",
        "text/ecmascript",
        "application/ecmascript",
        "application/x-shockwave-flash",
        "multipart/x-mixed-replace",
    }
)
# Shown in the page (<img>, <video>, inline disposition); every other type is downloaded.
INLINE_TYPES = frozenset(
    {
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "image/avif",
        "image/bmp",
        "image/jpg",  # not a registered type, but what many senders declare
        "image/pjpeg",
        "video/mp4",
        "video/webm",
        "video/ogg",
        "video/quicktime",
    }
)
_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,90}/[a-z0-9][a-z0-9!#$&^_.+-]{0,90}$")
_UNSAFE_IN_NAMES = str.maketrans(dict.fromkeys('<>:"|?*', "_"))
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_HEIF_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"mif1", b"msf1"})


@dataclass(frozen=True)
class UploadedFile:
    """A file as the agent sent it: nothing here is trusted yet."""

    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class CheckedFile:
    """A file that may be stored: a clean name, a type from its bytes, within the limits."""

    filename: str
    content_type: str
    content: bytes


def check_uploads(
    files: Sequence[UploadedFile], max_bytes: int, max_files: int
) -> list[CheckedFile]:
    """Refuse the whole set (too many files, an empty one, one too large), or name and type
    each file. Nothing is stored here, so a refusal leaves nothing behind."""
    if len(files) > max_files:
        raise Invalid(
            "too_many_attachments",
            "A reply can carry at most {limit} files.",
            field="attachments",
            limit=max_files,
        )
    checked = []
    for index, file in enumerate(files):
        name = clean_filename(file.filename)
        if not file.content:
            raise Invalid(
                "attachment_empty",
                "The file {filename} is empty.",
                field=f"attachments.{index}",
                filename=name or "?",
            )
        if len(file.content) > max_bytes:
            raise TooLarge(
                "attachment_too_large",
                "The file {filename} is larger than the limit of {limit_mb} MB.",
                field=f"attachments.{index}",
                filename=name or "?",
                limit_mb=megabytes(max_bytes),
            )
        content_type = content_type_of(file.content_type, name, file.content)
        if not name:
            name = "file" + (mimetypes.guess_extension(content_type) or "")
        checked.append(CheckedFile(name, content_type, file.content))
    return checked


def clean_filename(name: str) -> str:
    """The last part of a path, without control or invisible characters (a right-to-left
    override could disguise ``exe.pdf``), characters no file system accepts, or leading dots;
    ``""`` when nothing is left."""
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c) not in _DROPPED_CATEGORIES)
    name = " ".join(name.translate(_UNSAFE_IN_NAMES).split()).strip(". ")
    if len(name) > MAX_FILENAME:
        stem, dot, extension = name.rpartition(".")
        if dot and 0 < len(extension) <= 16:
            name = stem[: MAX_FILENAME - len(extension) - 1].rstrip(". ") + "." + extension
        else:
            name = name[:MAX_FILENAME].rstrip(". ")
    return name


def content_type_of(declared: str, filename: str, content: bytes) -> str:
    """The type to store: what the bytes show, else the declared type or the extension's,
    unless that claims an image or video the bytes do not confirm, or could run in a browser."""
    sniffed = sniff(content)
    if sniffed is not None:
        return sniffed
    by_name = mimetypes.guess_type(filename, strict=False)[0] if filename else None
    for claimed in (normalise_type(declared), normalise_type(by_name)):
        if claimed is None or claimed == GENERIC_TYPE or claimed in ACTIVE_TYPES:
            continue
        if not claimed.startswith(("image/", "video/")):
            return claimed
    return GENERIC_TYPE


def normalise_type(value: str | None) -> str | None:
    """``Image/PNG; name=x`` → ``image/png``; ``None`` for anything that is not a media type."""
    essence = (value or "").split(";", 1)[0].strip().lower()
    return essence if _TYPE.match(essence) else None


def sniff(content: bytes) -> str | None:
    """The type the first bytes prove, for the images, videos and PDFs agents send."""
    head = content[:64]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "video/x-msvideo"
    if head.startswith(b"\x1a\x45\xdf\xa3"):  # EBML: WebM, or Matroska
        return "video/webm" if b"webm" in head else "video/x-matroska"
    if head[4:8] == b"ftyp":
        return _iso_media_type(head[8:12])
    return None


def _iso_media_type(brand: bytes) -> str:
    if brand in (b"avif", b"avis"):
        return "image/avif"
    if brand in _HEIF_BRANDS:
        return "image/heic"
    if brand == b"qt  ":
        return "video/quicktime"
    if brand.startswith(b"3g"):
        return "video/3gpp"
    if brand in (b"M4A ", b"M4B "):
        return "audio/mp4"
    return "video/mp4"


def inline_type(content_type: str) -> bool:
    """May a file of this stored type be shown in a page rather than downloaded?"""
    return normalise_type(content_type) in INLINE_TYPES


def megabytes(size: int) -> str:
    """A byte count in megabytes (MiB), for messages: ``25``, ``2.5``, ``0.001``, ``250``."""
    value = size / (1024 * 1024)
    return f"{value:.0f}" if value >= 100 else f"{value:.3g}"
