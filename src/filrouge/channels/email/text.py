"""Bytes and HTML into readable text: lenient charsets, format=flowed, HTML to plain text."""

from __future__ import annotations

import codecs
import re
from html.parser import HTMLParser

# Charsets that mean "Western European, one byte each": often mislabelled UTF-8 or Windows-1252.
_WESTERN = {"ascii", "iso8859-1", "iso8859-15", "cp1252"}
# Labels mail software uses for a smaller charset than it writes (as browsers do, per WHATWG).
_SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "big5": "big5hkscs",
    "euc_kr": "cp949",
    "shift_jis": "cp932",
    "iso8859-9": "cp1254",
    "tis-620": "cp874",
    "iso8859-11": "cp874",
}
_SPACES = re.compile(r"\s+")
_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)


def text_of(data: bytes, charset: str | None) -> str:
    """Decode ``data`` as ``charset`` says, or as best we can: never raises."""
    declared = _codec(charset)
    if declared in _WESTERN and not data.isascii() and _decodes(data, "utf-8"):
        declared = "utf-8"  # labelled Latin-1 but written in UTF-8: a common mislabel
    elif declared in ("ascii", "iso8859-1"):
        declared = "cp1252"  # what "Latin-1" mail really is (curly quotes, €, œ)
    for codec in (declared, "utf-8"):
        if codec and _decodes(data, codec):
            return data.decode(codec)
    if _UTF8_SEQUENCE.search(data):
        return data.decode("utf-8", "replace")
    return data.decode("cp1252" if _decodes(data, "cp1252") else "latin-1")


def _codec(charset: str | None) -> str | None:
    if not charset:
        return None
    try:
        info = codecs.lookup(charset.strip().strip("\"'"))
    except (LookupError, ValueError):
        return None
    if not getattr(info, "_is_text_encoding", True):
        return None  # "base64", "rot13": codecs, not charsets
    return _SUPERSETS.get(info.name, info.name)


def _decodes(data: bytes, codec: str) -> bool:
    try:
        data.decode(codec)
    except (UnicodeError, LookupError, ValueError):
        return False
    return True


def unflow(text: str, *, delete_space: bool) -> str:
    """Undo RFC 3676 format=flowed: join soft-broken lines of the same quote depth."""
    lines: list[str] = []
    for line in text.split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        content = line[depth:].removeprefix(" ")
        previous = lines[-1] if lines else None
        if previous is not None and _is_soft_break(previous) and _depth(previous) == depth:
            joined = previous[:-1] if delete_space else previous
            lines[-1] = joined + content
            continue
        lines.append(line[:depth] + (" " if depth and content else "") + content)
    return "\n".join(lines)


def _is_soft_break(line: str) -> bool:
    return line.endswith(" ") and line.rstrip(">").strip() != "--"


def _depth(line: str) -> int:
    return len(line) - len(line.lstrip(">"))


def html_to_text(html: str) -> str:
    """Readable text from HTML; ``<blockquote>`` content comes out as ``> `` quoted lines."""
    if not html.strip():
        return ""
    extractor = _TextExtractor()
    try:
        extractor.feed(html)
        extractor.close()
    except Exception:  # html.parser is lenient; this is a last resort
        return re.sub(r"<[^>]*>", " ", html).strip()
    return extractor.text()


class _TextExtractor(HTMLParser):
    _SKIP = frozenset({"script", "style", "head", "title", "template", "noscript"})
    _BLOCK = frozenset(
        [
            "address",
            "article",
            "aside",
            "blockquote",
            "center",
            "dd",
            "div",
            "dl",
            "dt",
            "footer",
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
            "header",
            "hr",
            "li",
            "ol",
            "p",
            "pre",
            "section",
            "table",
            "tbody",
            "thead",
            "tfoot",
            "tr",
            "ul",
        ]
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[tuple[int, str]] = []
        self.current: list[str] = []
        self.quote_depth = 0
        self.skipping = 0
        self.preformatted = 0
        self.spaced = False  # a block holding only &nbsp;: a blank line its writer meant

    def updatepos(self, i: int, j: int) -> int:
        """Skip the line and column bookkeeping (a third of the parsing time): unused here."""
        return j

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self.skipping += 1
        elif tag == "br":
            self._flush(keep_empty=True)
        elif tag in self._BLOCK:
            self._flush()
            self.quote_depth += tag == "blockquote"
            self.preformatted += tag == "pre"
            if tag == "li":
                self.current.append("- ")
        elif tag in ("td", "th"):
            self.current.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self._flush(keep_empty=True)
        elif tag in self._BLOCK:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self._BLOCK:
            self._flush()
            if tag == "p":
                self.lines.append((self.quote_depth, ""))
            self.quote_depth = max(0, self.quote_depth - (tag == "blockquote"))
            self.preformatted = max(0, self.preformatted - (tag == "pre"))

    def handle_data(self, data: str) -> None:
        if self.skipping:
            return
        if not self.preformatted:
            self.spaced = self.spaced or "\xa0" in data
            self.current.append(_SPACES.sub(" ", data))
            return
        first, *others = data.split("\n")
        self.current.append(first)
        for line in others:
            self._flush(keep_empty=True)
            self.current.append(line)

    def _flush(self, *, keep_empty: bool = False) -> None:
        line = "".join(self.current)
        line = line.rstrip() if self.preformatted else line.strip()
        self.current = []
        if line or keep_empty or self.spaced:
            self.lines.append((self.quote_depth, line))
        self.spaced = False

    def text(self) -> str:
        self._flush()
        rendered = [
            (">" * depth + " " + line).rstrip() if depth else line for depth, line in self.lines
        ]
        return re.sub(r"\n(?:[ \t]*\n){2,}", "\n\n", "\n".join(rendered)).strip()
