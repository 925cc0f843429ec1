"""Personal data that must not go out in a public reply: email addresses, phone numbers,
order numbers and IBANs. A public reply that shows one is held until the agent confirms."""

from __future__ import annotations

import re

import phonenumbers

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# The demo retailer's order numbers (``ML-2026-004211``) and the usual "commande n° 123456".
ORDER = re.compile(
    r"\b[A-Z]{2,4}-\d{4}-\d{4,}\b|\b(?:commande|order|cmd)\s*(?:n[°o]\.?\s*)?#?\s*\d{6,}\b",
    re.IGNORECASE,
)
IBAN_CANDIDATE = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?\b")


def personal_data_in(text: str, region: str = "FR") -> list[str]:
    """The kinds found in ``text``, in a stable order: email, phone, order_number, iban."""
    found = []
    if EMAIL.search(text):
        found.append("email")
    if any(True for _ in phonenumbers.PhoneNumberMatcher(text, region)):
        found.append("phone")
    if ORDER.search(text):
        found.append("order_number")
    if any(is_iban(match.group()) for match in IBAN_CANDIDATE.finditer(text.upper())):
        found.append("iban")
    return found


def is_iban(candidate: str) -> bool:
    """ISO 13616: move the first four characters to the end, letters as numbers, mod 97 = 1."""
    compact = candidate.replace(" ", "").upper()
    if not 15 <= len(compact) <= 34 or not compact.isalnum():
        return False
    rearranged = compact[4:] + compact[:4]
    digits = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(digits) % 97 == 1
