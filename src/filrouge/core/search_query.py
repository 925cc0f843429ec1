"""What a person typed in the search box, read into words, phrases and exact keys.

Plain words must all match (accents and case aside); "quoted phrases" match in order; the last
word, typed without a space after it, also matches as a prefix (type-ahead). A phone number
typed any way (``06 12 34 56 78``) is also looked for in E.164, an email address or an order
number as itself. Nothing the person types reaches a query language unquoted: every word is
made of letters and digits only, and each is quoted where it is used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from filrouge.core.actions.orders import number_key
from filrouge.core.errors import Invalid
from filrouge.core.identity import normalise_email, normalise_phone

MAX_WORDS = 16  # a pasted paragraph is cut: the first words say enough
MIN_PREFIX = 2  # the FTS5 tables index prefixes of 2 and 3 letters
WORD = re.compile(r"[^\W_]+")
PHONE_LIKE = re.compile(r"^\+?[\d\s.\-()/]+$")
EMAIL_LIKE = re.compile(r"^[^\s@]+@[^\s@]+\.[^\s@]+$")
ORDER_LIKE = re.compile(r"^(?=.*\d)[\w\-/.#]{3,64}$")


@dataclass(frozen=True)
class SearchQuery:
    words: tuple[str, ...]  # lower case, letters and digits only
    phrases: tuple[tuple[str, ...], ...]
    prefix: bool  # the last word is also a prefix
    phone_forms: tuple[str, ...] = ()  # "+33612345678", "0612345678"
    email: str | None = None
    order_key: str | None = None

    @property
    def terms(self) -> tuple[str, ...]:
        """Every word, those of the phrases included (for the exact keys' fallbacks)."""
        return self.words + tuple(word for phrase in self.phrases for word in phrase)


def parse_query(typed: str, region: str = "FR") -> SearchQuery:
    """Read ``typed``; an empty query, or one made of punctuation only, is refused."""
    text = typed.strip()[:1000]
    phrases, rest = _phrases(text)
    words = tuple(_words(rest))
    kept_phrases = tuple(tuple(_words(phrase)) for phrase in phrases)
    kept_phrases = tuple(phrase for phrase in kept_phrases if phrase)
    if not words and not kept_phrases:
        raise Invalid("search_query_empty", "Type a word to search for.", field="q")
    words, kept_phrases = _bounded(words, kept_phrases)
    return SearchQuery(
        words=words,
        phrases=kept_phrases,
        prefix=bool(words) and not typed.endswith((" ", '"')) and len(words[-1]) >= MIN_PREFIX,
        phone_forms=_phone_forms(text, region),
        email=_email(text),
        order_key=number_key(text) if ORDER_LIKE.match(text) else None,
    )


def _phrases(text: str) -> tuple[list[str], str]:
    """Quoted parts, and what is left; a lone quote is only punctuation."""
    phrases = re.findall(r'"([^"]*)"', text)
    rest = re.sub(r'"[^"]*"', " ", text).replace('"', " ")
    return phrases, rest


def _words(text: str) -> list[str]:
    return [word.lower() for word in WORD.findall(text)]


def _bounded(
    words: tuple[str, ...], phrases: tuple[tuple[str, ...], ...]
) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    phrases = tuple(phrase[:MAX_WORDS] for phrase in phrases[:4])
    room = max(MAX_WORDS - sum(len(phrase) for phrase in phrases), 1)
    return words[:room], phrases


def _phone_forms(text: str, region: str) -> tuple[str, ...]:
    digits = re.sub(r"\D", "", text)
    if not PHONE_LIKE.match(text) or not 8 <= len(digits) <= 15:
        return ()
    try:
        e164 = normalise_phone(text, region)
    except Invalid:
        return ()
    forms = [e164]
    if e164.startswith("+33"):
        forms.append("0" + e164[3:])
    return tuple(forms)


def _email(text: str) -> str | None:
    if not EMAIL_LIKE.match(text):
        return None
    try:
        return normalise_email(text)
    except Invalid:
        return None


def fts5_expression(query: SearchQuery, stemmed: bool) -> str:
    """An FTS5 MATCH expression: every word and phrase quoted, all of them required; a phone
    number also matches in its other forms. ``stemmed`` tables keep stems only, so the last
    word matches as itself (stemmed) or as a prefix of a stem."""
    parts = [_quoted(word) for word in query.words]
    if query.prefix:
        last = _quoted(query.words[-1])
        parts[-1] = f"({last} OR {last}*)" if stemmed else f"{last}*"
    parts += [_quoted(" ".join(phrase)) for phrase in query.phrases]
    expression = " AND ".join(parts)
    if query.phone_forms:
        forms = " OR ".join(_quoted(form.lstrip("+")) for form in query.phone_forms)
        expression = f"({expression}) OR {forms}"
    return expression


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'
