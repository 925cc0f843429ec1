"""Signing replies: a full signature where letters are the norm, a first name elsewhere."""

from __future__ import annotations

from filrouge.core.models import User
from filrouge.core.models.enums import ChannelKind

FULL_SIGNATURE_KINDS = frozenset({ChannelKind.EMAIL, ChannelKind.WEB_FORM, ChannelKind.POSTAL})
UNSIGNED_KINDS = frozenset({ChannelKind.PHONE, ChannelKind.IN_PERSON, ChannelKind.CALLBACK})


def sign_reply(text: str, agent: User, channel_kind: str) -> tuple[str, bool]:
    """Return the text to send and whether it carries the agent's signature."""
    if channel_kind in UNSIGNED_KINDS:
        return text, False
    if channel_kind in FULL_SIGNATURE_KINDS:
        signature = (agent.signature or agent.name).strip()
        return f"{text.rstrip()}\n\n-- \n{signature}", True
    return f"{text.rstrip()}\n{agent.first_name}", True
