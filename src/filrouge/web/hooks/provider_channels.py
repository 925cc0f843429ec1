"""The channel a provider hook is for, as the hooks need it: its settings and its siblings.

A burst of deliveries reads its channel once: a channel is kept ``CHANNEL_TTL`` seconds, and a
change saved in this process is seen at once (``forget_channels`` on ``channel.updated``).
"""

from __future__ import annotations

import asyncio
import time
import weakref
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from filrouge.channels.registry import RECEIVERS
from filrouge.channels.webhooks import WebhookReceiver
from filrouge.core.events import DomainEvent, subscribe
from filrouge.core.models import ChannelAccount
from filrouge.web.errors import http_error

CHANNEL_TTL = 2.0  # seconds a channel's settings are kept for its hooks


@dataclass(frozen=True)
class KnownChannel:
    id: int
    kind: str
    settings: dict[str, Any]
    # Other channels of the same provider app, which get a copy (see WebhookReceiver).
    siblings: tuple[tuple[int, str], ...]


class ChannelCache:
    """Channels by id for one app, each kept ``CHANNEL_TTL`` seconds."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory
        self._kept: dict[int, tuple[float, KnownChannel]] = {}
        self._loading: dict[tuple[int, str], asyncio.Future[KnownChannel]] = {}
        _CACHES.add(self)

    async def known(self, receiver: WebhookReceiver, channel_id: int) -> KnownChannel:
        """The active channel ``channel_id`` of the receiver's kind, or a 404."""
        kept = self._kept.get(channel_id)
        if kept is not None and kept[0] > time.monotonic() and kept[1].kind == receiver.kind:
            return kept[1]
        key = (channel_id, receiver.kind)
        loading = self._loading.get(key)
        if loading is None:  # the first request of a burst reads it; the others wait for it
            loading = asyncio.ensure_future(self._load(receiver, channel_id))
            self._loading[key] = loading
            loading.add_done_callback(lambda done: self._loaded(key, done))
        return await asyncio.shield(loading)

    def _loaded(self, key: tuple[int, str], done: asyncio.Future[KnownChannel]) -> None:
        self._loading.pop(key, None)
        if not done.cancelled():
            done.exception()  # retrieved: a 404 nobody waits for any more is not logged

    async def _load(self, receiver: WebhookReceiver, channel_id: int) -> KnownChannel:
        known = await run_in_threadpool(load_channel, self.factory, receiver, channel_id)
        self._kept[channel_id] = (time.monotonic() + CHANNEL_TTL, known)
        return known

    def clear(self) -> None:
        self._kept.clear()


_CACHES: weakref.WeakSet[ChannelCache] = weakref.WeakSet()


def forget_channels(event: DomainEvent) -> None:
    """A channel changed: the hooks read channels again (every app of this process)."""
    for cache in list(_CACHES):
        cache.clear()


def load_channel(
    factory: sessionmaker[Session], receiver: WebhookReceiver, channel_id: int
) -> KnownChannel:
    channel = active_channel(factory, receiver.kind, channel_id)
    siblings = tuple((c.id, c.kind) for c in _siblings(factory, receiver, channel))
    return KnownChannel(channel.id, channel.kind, dict(channel.settings or {}), siblings)


def active_channel(factory: sessionmaker[Session], kind: str, channel_id: int) -> ChannelAccount:
    with factory() as session:
        channel = session.get(ChannelAccount, channel_id)
    if channel is None or channel.kind != kind or not channel.active:
        raise http_error(
            404, "unknown_channel", "There is no channel {channel_id}.", channel_id=channel_id
        )
    return channel


def _siblings(
    factory: sessionmaker[Session], receiver: WebhookReceiver, channel: ChannelAccount
) -> list[ChannelAccount]:
    """The other channels of the same provider app (same family, same app secret): Meta sends
    all of an app's events to one URL, and each channel keeps what is its own."""
    if receiver.app_family is None:
        return []
    kinds = [k for k, r in RECEIVERS.items() if r.app_family == receiver.app_family]
    secret = (channel.settings or {}).get("app_secret")
    with factory() as session:
        others = session.scalars(
            select(ChannelAccount).where(
                ChannelAccount.workspace_id == channel.workspace_id,
                ChannelAccount.kind.in_(kinds),
                ChannelAccount.active,
                ChannelAccount.id != channel.id,
            )
        )
        return [c for c in others if secret and (c.settings or {}).get("app_secret") == secret]


subscribe("channel.updated", forget_channels)
