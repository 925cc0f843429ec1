"""The demo loader: a small Maison Lumière, drawn from its seed, loaded only once."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from filrouge.core.actions.users import user_for_token
from filrouge.core.models import (
    ChannelAccount,
    Conversation,
    Customer,
    Event,
    Message,
    Order,
    Survey,
    User,
)
from filrouge.db import create_db_engine, make_session_factory, transaction
from filrouge.demo.loader import load_demo
from filrouge.demo.planner import TEAMS, plan_demo


def load(factory: sessionmaker[Session], seed: int = 7) -> list[str]:
    with transaction(factory) as session:
        return load_demo(session, seed, 50, 200)


def count(session: Session, model: Any, *where: Any) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def texts(factory: sessionmaker[Session]) -> list[str]:
    with factory() as session:
        return list(session.scalars(select(Message.text).order_by(Message.id)))


def test_it_loads_a_small_retailer_in_two_languages_with_switches_and_public_threads(factory):
    summary = load(factory)
    all_texts = texts(factory)
    with factory() as session:
        orders = session.scalars(select(Order)).all()
        surveys = session.scalars(select(Survey)).all()
        resolved = session.scalars(
            select(Conversation.id).where(Conversation.resolved_at.is_not(None))
        ).all()
    answered = [s for s in surveys if s.answered_at is not None]
    assert summary[0] == (
        f"Demo data: 50 customers, 200 conversations, {len(all_texts)} messages, "
        f"{len(orders)} orders, {len(answered)} satisfaction answers, 9 channels"
    )
    assert 0 < len(answered) < len(surveys) <= len(resolved)  # some asked, not all answer
    assert {s.conversation_id for s in surveys} <= set(resolved)
    assert all(1 <= s.csat <= 5 and s.answered_at > s.sent_at for s in answered)
    assert 200 * 2 <= len(all_texts) <= 200 * 8
    assert any(text.startswith("Bonjour") for text in all_texts)
    assert any(text.startswith("Hello") for text in all_texts)
    with factory() as session:
        assert count(session, ChannelAccount) == 9
        languages = session.scalars(
            select(Customer.attributes["language"].as_string()).join(
                Conversation, Conversation.customer_id == Customer.id
            )
        )
        assert set(languages) == {"fr", "en"}
        assert count(session, Conversation, Conversation.visibility == "public") > 0
        assert count(session, Message, Message.visibility == "public") > 0
        switches = session.scalars(
            select(Event).where(Event.action == "conversation.channel_switched")
        ).all()
        assert len(switches) == 10  # 5 %
        for event in switches:
            conversation = session.get_one(Conversation, event.subject_id)
            message = session.get_one(Message, event.after["message_id"])
            assert message.conversation_id == conversation.id
            assert conversation.channel_id == event.after["channel_id"] == message.channel_id
            assert conversation.origin_channel_id == event.before["channel_id"]
        assert len(orders) >= 20  # each order the customers write about, bought before
        for order in orders:
            mentions = session.scalars(
                select(Message)
                .join(Conversation, Conversation.id == Message.conversation_id)
                .where(Conversation.customer_id == order.customer_id)
                .where(Message.text.contains(order.number))
            ).all()
            assert mentions
            assert all(order.ordered_at < message.occurred_at for message in mentions)


def test_it_writes_the_same_texts_for_the_same_seed(factory, sqlite_template, tmp_path: Path):
    other_path = tmp_path / "other.db"
    shutil.copyfile(sqlite_template, other_path)
    other_engine = create_db_engine(f"sqlite:///{other_path}")
    try:
        load(factory)
        load(make_session_factory(other_engine))
        first, second = texts(factory), texts(make_session_factory(other_engine))
    finally:
        other_engine.dispose()
    assert len(first) > 200
    assert first == second


def test_it_only_mints_a_new_token_when_loaded_again(factory):
    first, second = load(factory), load(factory, seed=8)
    assert first[:-1] == second[:-1]
    assert first[-3:-1] == [
        "Admin login: admin@maison-lumiere.example / filrouge-demo",
        "API token:",
    ]
    assert first[-1] != second[-1]
    with transaction(factory) as session:
        assert count(session, Conversation) == 200
        for token in (first[-1], second[-1]):
            user = user_for_token(session, token)
            assert user is not None
            assert user.email == "admin@maison-lumiere.example"


def test_it_plans_the_same_demo_from_the_same_seed_without_a_database():
    now = datetime(2026, 3, 10, 14, tzinfo=UTC)
    staff = {team: [User(name=f"Agent {team}", email="agent@example.org")] for team in TEAMS}

    def drawn(seed: int) -> list[tuple[str, datetime]]:
        plan = plan_demo(seed, now, staff, 20, 60)
        assert len(plan.customers) == 20
        assert len(plan.conversations) == 60
        return [(m.text, m.at) for c in plan.conversations for m in c.messages]

    first = drawn(7)
    assert first == drawn(7)
    assert first != drawn(8)
    assert all(at < now for _text, at in first)


def test_its_vip_customers_have_a_concierge_and_its_agents_a_presence(factory):
    load(factory)
    with factory() as session:
        customers = session.scalars(select(Customer)).all()
        users = {u.id: u for u in session.scalars(select(User))}
    vips = [c for c in customers if c.attributes.get("vip")]
    assert vips
    assert all(c.owner_id is not None for c in vips)
    assert all(c.owner_id is None for c in customers if not c.attributes.get("vip"))
    assert {users[c.owner_id].name for c in vips if c.owner_id} <= {"Camille Roux", "Julien Moreau"}
    assert {u.presence for u in users.values()} == {"online", "away", "offline"}


def test_the_demo_has_typed_customer_fields_consents_reach_and_two_segments(factory):
    from filrouge.core.actions.segments import segment_definition
    from filrouge.core.custom_fields import custom_fields
    from filrouge.core.models import Identity, Segment
    from filrouge.core.segments import segment_clause

    load(factory)
    with factory() as session:
        customers = session.scalars(select(Customer)).all()
        workspace_id = customers[0].workspace_id
        keys = [f.key for f in custom_fields(session, workspace_id)]
        segments = {s.name: s for s in session.scalars(select(Segment))}
        members = {
            name: set(
                session.scalars(
                    select(Customer.id).where(segment_clause(segment_definition(segment)))
                )
            )
            for name, segment in segments.items()
        }
        followers = session.scalars(
            select(Identity.attributes).where(Identity.kind.in_(["x", "facebook"]))
        ).all()
    assert keys == ["loyalty_tier", "customer_since", "store_number"]
    assert members["VIP"] == {c.id for c in customers if c.attributes.get("vip") is True}
    gold = {c.id for c in customers if c.attributes.get("loyalty_tier") == "or"}
    assert members["Fidélité or"] == gold
    assert gold
    assert members["VIP"]
    assert any(c.attributes.get("consent_email") is True for c in customers)
    assert any(c.attributes.get("consent_email") is False for c in customers)
    assert followers
    assert all(isinstance(a["followers"], int) for a in followers)
