"""Business hours of a chat channel (``core/hours.py``): is the team there now, and when next?

No ``hours`` in the channel's settings: always open. The time zone is the channel's
``timezone``, else the workspace's; public holidays are those of ``holidays_country`` (default:
FILROUGE_DEFAULT_REGION).
"""

from __future__ import annotations

from typing import Any

from filrouge.core.errors import Invalid
from filrouge.core.hours import BadHours, OpeningHours, hours_in_settings


def channel_hours(settings: dict[str, Any], zone: str | None, region: str) -> OpeningHours | None:
    """The channel's hours, or None when it keeps none (always open). Raises ``Invalid``."""
    raw = settings.get("hours")
    if not raw:
        return None
    try:
        return hours_in_settings(settings, zone, region)
    except BadHours as exc:
        raise Invalid(
            "invalid_hours",
            "Opening hours list, for each weekday (mon … sun), ranges such as 09:00–18:00.",
            field="settings.hours",
        ) from exc
