"""The demo's customer fields and segments: a loyalty tier, a customer-since date, a store
number, consents and follower counts, drawn per customer from their own address (so the
rest of the demo stays what the seed made it), and two saved segments."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from filrouge.core.actions.custom_fields import create_field
from filrouge.core.actions.segments import create_segment
from filrouge.core.audit import Actor
from filrouge.core.models import User

FIELDS: tuple[tuple[str, str, str, list[str]], ...] = (  # key, label, type, options
    ("loyalty_tier", "Fidélité", "choice", ["bronze", "argent", "or"]),
    ("customer_since", "Client depuis", "date", []),
    ("store_number", "Magasin habituel (n°)", "number", []),
)
TIERS = {"bronze": 60, "argent": 28, "or": 12}
SEGMENTS = (
    ("VIP", {"all": [{"field": "vip", "op": "is", "value": True}]}),
    ("Fidélité or", {"all": [{"field": "attributes.loyalty_tier", "op": "=", "value": "or"}]}),
)


def customer_extras(email: str, created_at: datetime, identities: dict[str, Any]) -> dict[str, Any]:
    """Loyalty, store, consents for one customer (consent unknown for about a third)."""
    rng = random.Random(email)
    since = created_at - timedelta(days=rng.randint(0, 3650))
    extras: dict[str, Any] = {
        "loyalty_tier": rng.choices(list(TIERS), list(TIERS.values()))[0],
        "customer_since": since.date().isoformat(),
        "store_number": rng.randint(1, 42),
    }
    for key, channel in (("consent_email", "email"), ("consent_sms", "phone")):
        if channel in identities and rng.random() < 0.7:
            extras[key] = rng.random() < 0.75
    if "whatsapp" in identities and rng.random() < 0.8:
        extras["consent_whatsapp"] = True
    return extras


def identity_extras(kind: str, value: str) -> dict[str, Any] | None:
    """Followers on X and Facebook, as their payloads tell them; a few have a large reach."""
    if kind not in ("x", "facebook"):
        return None
    rng = random.Random(f"{kind}:{value}")
    return {"followers": int(rng.paretovariate(1.2) * 80)}


def write_fields_and_segments(session: Session, workspace_id: int, supervisor: User) -> None:
    actor = Actor.user(supervisor.id)
    for key, label, type_, options in FIELDS:
        create_field(session, workspace_id, key, label, type_, options, actor)
    for name, definition in SEGMENTS:
        create_segment(session, supervisor, name, definition, shared=True)
