"""Each piece of evidence of a suggested duplicate, said in the reader's language."""

from __future__ import annotations

from typing import Any

from filrouge.i18n import N_, translate

NETWORKS = {
    "facebook": "Facebook",
    "messenger": "Messenger",
    "instagram": "Instagram",
    "x": "X",
    "telegram": "Telegram",
    "whatsapp": "WhatsApp",
}
WAYS = {"phone": N_("phone"), "whatsapp": "WhatsApp"}


def explain(evidence: dict[str, Any], locale: str) -> str:
    kind = evidence.get("kind")
    if kind == "same_phone":
        ways = [translate(WAYS.get(way, way), locale) for way in evidence.get("by", [])]
        return translate(
            N_("Same phone number {value} ({ways})"),
            locale,
            value=evidence.get("value"),
            ways=" / ".join(ways),
        )
    if kind == "chat_email":
        return translate(
            N_("In the chat, one typed {value}: the other's email address"),
            locale,
            value=evidence.get("value"),
        )
    if kind == "same_name_same_domain":
        return translate(
            N_("Same name and same email domain ({domain})"), locale, domain=evidence.get("domain")
        )
    if kind == "similar_name":
        return translate(
            N_("On {network}, “{name}” is close to “{other_name}” ({similarity} %)"),
            locale,
            network=NETWORKS.get(str(evidence.get("network")), evidence.get("network")),
            name=evidence.get("name"),
            other_name=evidence.get("other_name"),
            similarity=evidence.get("similarity"),
        )
    return str(kind)
