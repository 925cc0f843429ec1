"""French first, English too: every message in the code has its French translation."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_keywords

from filrouge.i18n import EXTRACT_KEYWORDS, catalogue, negotiate_locale, translate

SOURCE = Path(__file__).resolve().parents[1] / "src" / "filrouge"


def messages_in_code() -> set[str]:
    keywords = parse_keywords(list(EXTRACT_KEYWORDS))
    methods = [("**.py", "python"), ("**/templates/**.html", "jinja2.ext:babel_extract")]
    found = extract_from_dir(str(SOURCE), method_map=methods, keywords=keywords)
    return {str(message) for _, _, message, _, _ in found}


def test_it_has_a_french_translation_for_every_message_in_the_code():
    in_code = messages_in_code()
    assert len(in_code) > 100
    assert "Keyboard shortcuts" in in_code  # from the templates
    missing = sorted(in_code - set(catalogue("fr")))
    assert missing == [], f"add these to locale/fr/LC_MESSAGES/messages.po: {missing}"


def test_it_keeps_the_placeholders_of_every_translation():
    for message_id, french in catalogue("fr").items():
        assert sorted(_placeholders(message_id)) == sorted(_placeholders(french)), message_id


def test_it_translates_with_parameters():
    assert translate("There is no customer {id}.", "fr", id=7) == "Il n'y a pas de client 7."
    assert translate("There is no customer {id}.", "en", id=7) == "There is no customer 7."


def test_it_picks_the_best_language_from_accept_language():
    assert negotiate_locale(None) == "fr"
    assert negotiate_locale("en-US,en;q=0.9,fr;q=0.8") == "en"
    assert negotiate_locale("de-DE,fr;q=0.5,en;q=0.4") == "fr"
    assert negotiate_locale("de-DE") == "fr"


def _placeholders(text: str) -> list[str]:
    import string

    return [name for _, name, _, _ in string.Formatter().parse(text) if name]
