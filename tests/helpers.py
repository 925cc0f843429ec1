"""Small builders for request bodies used across the API tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)  # all test dates are in the past


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


def receive(admin: Any, channel_id: int, sender: str, hours: float = 0, **extra: Any) -> Any:
    """POST one inbound message, ``hours`` after T0; it must be accepted as new."""
    body = inbound(
        channel_id, sender, occurred_at=(T0 + timedelta(hours=hours)).isoformat(), **extra
    )
    response = admin.post("/api/v1/inbound", json=body)
    assert response.status_code == 201, response.text
    return response.json()
