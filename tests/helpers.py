"""Small builders for request bodies used across the API tests."""

from __future__ import annotations

from typing import Any


def inbound(
    channel_id: int, sender: str, text: str = "Bonjour", kind: str = "email", **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channel_id": channel_id,
        "sender": {
            "kind": kind,
            "value": sender,
            "verified": extra.pop("verified", False),
            "name": extra.pop("name", None),
        },
        "text": text,
    }
    body.update(extra)
    return body
