"""A callback conversation is answered by phone: a reply is logged, never sent."""

from __future__ import annotations

from typing import ClassVar

from filrouge.channels.base import ChannelAdapter, OutboundMessage
from filrouge.core.models.enums import ChannelKind, IdentityKind


class CallbackAdapter(ChannelAdapter):
    kind: ClassVar[str] = ChannelKind.CALLBACK
    identity_kinds: ClassVar[frozenset[str]] = frozenset({IdentityKind.PHONE})
    logs_only: ClassVar[bool] = True

    def send(self, message: OutboundMessage) -> str | None:
        return None
