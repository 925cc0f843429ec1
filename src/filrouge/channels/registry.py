"""The explicit list of channel kinds that can send, and their adapters. No magic discovery."""

from __future__ import annotations

from filrouge.channels.api.adapter import ApiAdapter
from filrouge.channels.base import ChannelAdapter
from filrouge.channels.callback.adapter import CallbackAdapter
from filrouge.channels.chat.adapter import ChatAdapter
from filrouge.channels.email.adapter import EmailAdapter
from filrouge.channels.manual.adapter import InPersonAdapter, PhoneAdapter, PostalAdapter

ADAPTERS: dict[str, ChannelAdapter] = {
    adapter.kind: adapter
    for adapter in (
        ApiAdapter(),
        ChatAdapter(),
        EmailAdapter(),
        PhoneAdapter(),
        InPersonAdapter(),
        PostalAdapter(),
        CallbackAdapter(),
    )
}


def adapter_for(kind: str) -> ChannelAdapter | None:
    """The adapter that sends on ``kind``, or None while that channel cannot send yet."""
    return ADAPTERS.get(kind)
