"""The translation catalogue: French first, English too.

Message ids are the English text (gettext style); catalogues live in
``locale/<lang>/LC_MESSAGES/messages.po`` and are read once with Babel. ``make messages``
re-extracts ids from the code so that a missing translation shows up in the tests.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po

LOCALES = ("fr", "en")
DEFAULT_LOCALE = "fr"
LOCALE_DIR = Path(__file__).parent / "locale"


# Keywords that mark catalogue messages, as ``name:argument position`` (for ``make messages``).
EXTRACT_KEYWORDS = (
    "_",
    "N_",
    "DomainError:2",
    "Invalid:2",
    "NotFound:2",
    "Conflict:2",
    "Gone:2",
    "TooLarge:2",
    "Forbidden:2",
    "TooManyAttempts:2",
    "CsvError:2",
    "ReadingStopped:2",
    "BadCredentials:2",
    "http_error:3",
    "error_response:4",
)


def N_(message_id: str) -> str:  # noqa: N802 - the gettext convention for "mark, translate later"
    return message_id


@lru_cache(maxsize=len(LOCALES))
def catalogue(locale: str) -> dict[str, str]:
    path = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return {}
    with path.open("rb") as handle:
        po = read_po(handle, locale=locale)
    return {str(m.id): str(m.string) for m in po if m.id and m.string and not m.fuzzy}


def translate(message_id: str, locale: str = DEFAULT_LOCALE, **params: Any) -> str:
    text = catalogue(locale if locale in LOCALES else DEFAULT_LOCALE).get(message_id, message_id)
    if not params:  # a template may want the placeholders, to fill them in the browser
        return text
    try:
        return text.format(**params)
    except (KeyError, IndexError, ValueError):
        return message_id.format(**params)


def negotiate_locale(accept_language: str | None, default: str = DEFAULT_LOCALE) -> str:
    """Pick fr or en from an ``Accept-Language`` header, by quality."""
    best, best_quality = default, -1.0
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        language = tag.strip().lower().split("-")[0]
        quality = _quality(params)
        if language in LOCALES and quality > best_quality:
            best, best_quality = language, quality
    return best


def _quality(params: str) -> float:
    name, _, value = params.strip().partition("=")
    if name.strip() != "q":
        return 1.0
    try:
        return float(value)
    except ValueError:
        return 0.0
