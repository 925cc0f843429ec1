"""Deliveries racing each other: a retried webhook arriving twice at once is stored once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from filrouge.channels.base import NormalisedInbound, Sender
from filrouge.core.actions.channels import create_channel
from filrouge.core.actions.inbound import receive_message
from filrouge.core.actions.users import ensure_workspace
from filrouge.core.audit import Actor
from filrouge.core.models import Customer, Identity, Message
from filrouge.db import transaction


def test_it_stores_a_message_delivered_many_times_at_once_exactly_once(factory, settings):
    with transaction(factory) as session:
        workspace = ensure_workspace(session, "W")
        channel, _ = create_channel(session, workspace.id, "whatsapp", "WA", {}, Actor.system())
    deliveries = [
        NormalisedInbound(
            channel_id=channel.id,
            provider_message_id=f"wamid.{n % 5}",
            sender=Sender("whatsapp", "+33612345678", verified=True),
            text=f"message {n % 5}",
        )
        for n in range(40)
    ]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda m: receive_message(factory, m, settings), deliveries))
    assert sum(not r.duplicate for r in results) == 5
    assert len({r.message_id for r in results}) == 5
    assert len({r.customer_id for r in results}) == 1
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 5
        assert session.scalar(select(func.count()).select_from(Customer)) == 1
        assert session.scalar(select(func.count()).select_from(Identity)) == 1
