"""What a Meta payload says of a person besides their id: the follower count (reach), kept on
the identity only when the payload has it (a later payload without it must not erase it)."""

from __future__ import annotations

from typing import Any

FOLLOWER_KEYS = ("followers_count", "follower_count", "fan_count")


def reach_attributes(profile: dict[str, Any]) -> dict[str, Any]:
    for key in FOLLOWER_KEYS:
        count = profile.get(key)
        if isinstance(count, int) and not isinstance(count, bool) and count >= 0:
            return {"followers": count}
    return {}
