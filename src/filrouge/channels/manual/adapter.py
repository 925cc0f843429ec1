"""Channels where the agent speaks or writes outside Filrouge and logs what was said.

Nothing is sent: a logged reply is recorded as sent at once, so the thread stays whole.
"""

from __future__ import annotations

from typing import ClassVar

from filrouge.channels.base import ChannelAdapter, OutboundMessage
from filrouge.core.models.enums import ChannelKind, IdentityKind


class _LoggedContact(ChannelAdapter):
    logs_only: ClassVar[bool] = True

    def send(self, message: OutboundMessage) -> str | None:
        return None


class PhoneAdapter(_LoggedContact):
    kind = ChannelKind.PHONE
    identity_kinds = frozenset({IdentityKind.PHONE, IdentityKind.WHATSAPP})


class InPersonAdapter(_LoggedContact):
    kind = ChannelKind.IN_PERSON


class PostalAdapter(_LoggedContact):
    kind = ChannelKind.POSTAL
    identity_kinds = frozenset({IdentityKind.POSTAL_ADDRESS})
