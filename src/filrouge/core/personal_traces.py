"""The forms in which a customer's name, email addresses and phone numbers are written: in
text, in JSON (escaped), in a provider's form-encoded body. An erasure looks for each of them
in the rows that are not the customer's own (core/actions/erasure.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import quote, quote_plus

import phonenumbers

from filrouge.core.identity import PHONE_KINDS

SHORTEST = 5  # shorter values (a first name alone, an id) would match unrelated text


@dataclass(frozen=True)
class Traces:
    """``values``: what identifies the person alone (addresses, numbers, handles), safe to
    remove wherever it is written; ``names``: their names, which others may share."""

    values: frozenset[str]
    names: frozenset[str]

    @classmethod
    def of(cls, values: set[str], names: set[str]) -> Traces:
        """Only full names (two words or more) are looked for: a first name alone would
        match other people's rows."""
        full = {name.strip() for name in names if len(name.split()) >= 2}
        return cls(frozenset(values), frozenset(full))

    def text_needles(self) -> list[str]:
        """Lower-case forms to look for in text and JSON columns."""
        found = {form.lower() for item in self.values | self.names for form in _text_forms(item)}
        return sorted(needle for needle in found if len(needle) >= SHORTEST)

    def byte_needles(self) -> list[bytes]:
        """Forms to look for in raw provider bodies (JSON or form-encoded)."""
        found = {
            form.encode()
            for item in self.values | self.names
            for base in {item, item.lower()}
            for form in (*_text_forms(base), quote(base, safe=""), quote_plus(base))
        }
        return sorted(needle for needle in found if len(needle) >= SHORTEST)


def identity_forms(kind: str, value: str) -> set[str]:
    """``value`` as stored, and as people write it when it is a phone number."""
    forms = {value}
    if kind in PHONE_KINDS:
        forms |= phone_forms(value)
    return forms


def phone_forms(e164: str) -> set[str]:
    """``+33647219358``, ``33647219358``, ``+33 6 47 21 93 58``, ``06 47 21 93 58``,
    ``0647219358``: as stored, in a provider's body, as people write it."""
    forms = {e164, e164.lstrip("+")}
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return forms
    for style in (
        phonenumbers.PhoneNumberFormat.INTERNATIONAL,
        phonenumbers.PhoneNumberFormat.NATIONAL,
    ):
        written = phonenumbers.format_number(number, style)
        forms |= {written, "".join(c for c in written if c.isdigit() or c == "+")}
    return forms


def _text_forms(item: str) -> set[str]:
    """The item, and as JSON writes it when it is not ASCII (``\\u00e9``)."""
    return {item, json.dumps(item)[1:-1]}
