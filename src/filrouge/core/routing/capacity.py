"""How many conversations an agent takes at once, per kind of channel.

Channels are grouped in four kinds of work: a chat is live, an email can wait, social
messages are in between; calls, visits and API messages are "other". An agent's own figures
(``users.capacity``) override the defaults.
"""

from __future__ import annotations

from collections.abc import Mapping

from filrouge.core.errors import Invalid
from filrouge.core.models.enums import ChannelKind

DEFAULT_CAPACITY = {"chat": 3, "email": 10, "social": 5, "other": 5}
MAX_CAPACITY = 1000
_SOCIAL = (
    ChannelKind.MESSENGER,
    ChannelKind.FACEBOOK_COMMENTS,
    ChannelKind.INSTAGRAM,
    ChannelKind.WHATSAPP,
    ChannelKind.X,
    ChannelKind.TELEGRAM,
    ChannelKind.SMS,
)
CAPACITY_CLASS: dict[str, str] = {
    ChannelKind.CHAT: "chat",
    ChannelKind.EMAIL: "email",
    ChannelKind.WEB_FORM: "email",
    ChannelKind.POSTAL: "email",
    **{kind.value: "social" for kind in _SOCIAL},
}


def capacity_class(channel_kind: str) -> str:
    return CAPACITY_CLASS.get(channel_kind, "other")


def capacity_for(own: Mapping[str, int] | None, kind_class: str) -> int:
    """The agent's figure for that kind of work, else the default."""
    value = (own or {}).get(kind_class)
    return int(value) if isinstance(value, int) else DEFAULT_CAPACITY[kind_class]


def check_capacity(values: Mapping[str, object]) -> dict[str, int]:
    """Figures per kind of work (0 … 1000); unknown kinds and other values are refused."""
    checked: dict[str, int] = {}
    for key, value in values.items():
        if key not in DEFAULT_CAPACITY:
            raise Invalid(
                "unknown_capacity_kind",
                "Unknown kind of work {kind}: chat, email, social or other.",
                field="capacity",
                kind=key,
            )
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_CAPACITY:
            raise Invalid(
                "invalid_capacity",
                "A capacity is a whole number from 0 to {max}.",
                field=f"capacity.{key}",
                max=MAX_CAPACITY,
            )
        checked[key] = value
    return checked
