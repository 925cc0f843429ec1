"""Highlighted snippets that are safe to show: customers' words are escaped, and the only
markup is our own ``<mark>``, balanced whatever the text holds."""

from __future__ import annotations

import re
import unicodedata
from html import escape

OPEN = "\ue000"  # private-use characters: the database marks matches with them
CLOSE = "\ue001"
WORD = re.compile(r"[^\W_]+")
MAX_CHARS = 300


def marked_html(snippet: str) -> str:
    """A snippet whose matches the database wrapped in OPEN/CLOSE, as escaped HTML with
    ``<mark>`` (a stray marker written by a customer opens or closes nothing twice)."""
    html: list[str] = []
    opened = False
    for part in re.split(f"([{OPEN}{CLOSE}])", snippet):
        if part == OPEN and not opened:
            html.append("<mark>")
            opened = True
        elif part == CLOSE and opened:
            html.append("</mark>")
            opened = False
        elif part not in (OPEN, CLOSE):
            html.append(escape(part, quote=False))
    if opened:
        html.append("</mark>")
    return "".join(html)


def fold(text: str) -> str:
    """Lower case without accents: « Réclamation » → « reclamation »."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def highlight_words(text: str, terms: tuple[str, ...], exact: tuple[str, ...] = ()) -> str:
    """``text`` escaped, each word beginning with one of ``terms`` (folded) marked, and each
    whole ``exact`` value (an email, a phone number) marked as one."""
    text = text[: MAX_CHARS * 2]
    folded_terms = tuple(fold(term) for term in terms if term)
    spans = [
        (match.start(), match.end())
        for match in WORD.finditer(text)
        if fold(match.group()).startswith(folded_terms)
    ]
    for value in exact:
        start = text.lower().find(value.lower()) if value else -1
        if start >= 0:
            spans = [s for s in spans if s[1] <= start or s[0] >= start + len(value)]
            spans.append((start, start + len(value)))
    html: list[str] = []
    position = 0
    for start, end in sorted(spans):
        html += [escape(text[position:start], quote=False), "<mark>"]
        html += [escape(text[start:end], quote=False), "</mark>"]
        position = end
    html.append(escape(text[position:], quote=False))
    return "".join(html)


def passage(text: str, terms: tuple[str, ...], words: int = 24) -> str:
    """The part of a long ``text`` around its first word matching ``terms`` (a plural, a
    « -ment » ending: the first letters are enough), as escaped HTML with the matches marked."""
    stems = tuple(_stem(fold(term)) for term in terms if term)
    matches = [m for m in WORD.finditer(text) if fold(m.group()).startswith(stems)]
    if not matches:
        return highlight_words(text[:MAX_CHARS], ())
    every = list(WORD.finditer(text))
    index = next(i for i, m in enumerate(every) if m.start() == matches[0].start())
    first = max(index - words // 3, 0)
    last = min(first + words, len(every)) - 1
    start = every[first].start() if first else 0
    end = every[last].end() if last < len(every) - 1 else len(text)
    shown = highlight_words(text[start:end], stems)
    return ("…" if start else "") + shown + ("…" if end < len(text) else "")


def _stem(word: str) -> str:
    """Enough of a word to find its other forms: « remboursements » → « rembourse »."""
    return word[: max(len(word) - 3, 4)] if len(word) > 5 else word
