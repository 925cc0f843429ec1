"""Normalising identity values so that the same person is found under the same key."""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers

from filrouge.core.errors import Invalid
from filrouge.core.models.enums import IdentityKind

SPACE = re.compile(r"\s")
# Digits with spaces, dots or hyphens between them: phonenumbers reads them without those, and
# has fewer characters to go through (an import of a million numbers saves seconds).
PLAIN_PHONE = re.compile(r"\+?[0-9][0-9 .\-]*[0-9]")
SEPARATORS = str.maketrans("", "", " .-")
PHONE_KINDS = frozenset({IdentityKind.PHONE, IdentityKind.WHATSAPP})
# Kinds whose verified values can prove two identities belong to the same person.
LINKABLE_KINDS = frozenset({IdentityKind.EMAIL, *PHONE_KINDS})


def normalise_identity(kind: str, value: str, region: str) -> str:
    """Return the canonical form of ``value`` for ``kind``, or raise ``Invalid``."""
    cleaned = value.strip()
    if not cleaned:
        raise Invalid("invalid_identity", "The sender's identity is empty.", field="sender.value")
    if kind == IdentityKind.EMAIL:
        return normalise_email(cleaned)
    if kind in PHONE_KINDS:
        return normalise_phone(cleaned, region)
    if kind in (IdentityKind.X, IdentityKind.INSTAGRAM):
        return cleaned.lstrip("@").lower()
    return cleaned


def normalise_email(value: str) -> str:
    local, at, domain = value.rpartition("@")
    if not at or not local or "." not in domain or SPACE.search(value):
        raise _bad_email(value)
    try:
        ascii_domain = _ascii_domain(domain.lower())
    except UnicodeError as exc:
        raise _bad_email(value) from exc
    return f"{local.lower()}@{ascii_domain}"


@lru_cache(maxsize=4096)
def _ascii_domain(domain: str) -> str:
    """The domain in IDNA (ASCII) form; the same few domains come back again and again."""
    return domain.encode("idna").decode("ascii")


def _bad_email(value: str) -> Invalid:
    return Invalid(
        "invalid_email", "{value} is not an email address.", field="sender.value", value=value
    )


def normalise_phone(value: str, region: str) -> str:
    """E.164, reading national numbers in the workspace's region (``06 12 …`` in France)."""
    compact = value.translate(SEPARATORS) if PLAIN_PHONE.fullmatch(value) else value
    try:
        number = phonenumbers.parse(compact, region)
    except phonenumbers.NumberParseException as exc:
        raise _bad_phone(value) from exc
    if not phonenumbers.is_possible_number(number):
        raise _bad_phone(value)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _bad_phone(value: str) -> Invalid:
    return Invalid(
        "invalid_phone", "{value} is not a phone number.", field="sender.value", value=value
    )


def linkable_kinds(kind: str) -> frozenset[str]:
    """Identity kinds whose verified value proves the same person as a verified ``kind``."""
    if kind in PHONE_KINDS:
        return PHONE_KINDS
    if kind == IdentityKind.EMAIL:
        return frozenset({IdentityKind.EMAIL})
    return frozenset()
