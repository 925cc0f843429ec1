"""Signing replies: a full signature where letters are the norm, a first name elsewhere.

Each channel may choose its own style (``settings["signature_style"]``, set on the admin page);
without one, the kind of channel decides.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from filrouge.core.models import User
from filrouge.core.models.enums import ChannelKind


class SignatureStyle(StrEnum):
    FULL = "full"
    FIRST_NAME = "first_name"
    NONE = "none"


FULL_SIGNATURE_KINDS = frozenset({ChannelKind.EMAIL, ChannelKind.WEB_FORM, ChannelKind.POSTAL})
UNSIGNED_KINDS = frozenset({ChannelKind.PHONE, ChannelKind.IN_PERSON, ChannelKind.CALLBACK})


def signature_style(channel_kind: str, settings: dict[str, Any] | None = None) -> SignatureStyle:
    """The style a channel signs with: its own setting, else its kind's default."""
    chosen = str((settings or {}).get("signature_style", ""))
    if chosen in set(SignatureStyle):
        return SignatureStyle(chosen)
    if channel_kind in UNSIGNED_KINDS:
        return SignatureStyle.NONE
    if channel_kind in FULL_SIGNATURE_KINDS:
        return SignatureStyle.FULL
    return SignatureStyle.FIRST_NAME


def sign_reply(text: str, agent: User, style: SignatureStyle) -> tuple[str, bool]:
    """Return the text to send and whether it carries the agent's signature."""
    if style == SignatureStyle.NONE:
        return text, False
    if style == SignatureStyle.FULL:
        signature = (agent.signature or agent.name).strip()
        return f"{text.rstrip()}\n\n-- \n{signature}", True
    return f"{text.rstrip()}\n{agent.first_name}", True
