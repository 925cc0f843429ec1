"""Loading the demo: Maison Lumière, a French home-goods retailer with stores in Lyon, Paris and
Bordeaux. The loader sets up the channels and the staff, has ``filrouge.demo.planner`` draw
everything else from the seed, and writes the rows in bulk."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from filrouge.core.actions.channels import create_channel
from filrouge.core.actions.orders import number_key
from filrouge.core.actions.users import create_token, create_user, ensure_workspace
from filrouge.core.audit import Actor
from filrouge.core.models import (
    ChannelAccount,
    Conversation,
    ConversationTag,
    Customer,
    Event,
    Identity,
    Message,
    Order,
    Survey,
    Team,
    User,
)
from filrouge.core.models.enums import ActorKind
from filrouge.demo import phrases
from filrouge.demo.attributes import (
    customer_extras,
    identity_extras,
    write_fields_and_segments,
)
from filrouge.demo.planner import (
    CHANNELS,
    IN,
    NOTE,
    OUT,
    PUBLIC_KINDS,
    SPECS,
    TEAMS,
    DemoPlan,
    PlannedConversation,
    plan_demo,
)

WORKSPACE_NAME = "Maison Lumière"
ADMIN_EMAIL = "admin@maison-lumiere.example"
ADMIN_PASSWORD = "filrouge-demo"
BATCH_SIZE = 1000
# SQLite cannot order a multi-row RETURNING, so SQLAlchemy inserts those batches row by row and
# splices the results, in time quadratic in the batch size: keep them small.
RETURNING_BATCH_SIZE = 100
T = TypeVar("T")
SYSTEM = Actor.system()
CHANNEL_SETTINGS: dict[str, dict[str, Any]] = {
    "email": {"address": "service@maison-lumiere.example"},
    "web_form": {"url": "https://www.maison-lumiere.example/contact"},
    "chat": {"greeting": "Bonjour ! Une question ?", "color": "#c8553d"},
    "whatsapp": {"phone_number": "+33478000100"},
    "messenger": {"page_id": "104233000000001"},
    "facebook_comments": {"page_id": "104233000000001", "page_name": WORKSPACE_NAME},
    "x": {"handle": "@MaisonLumiere", "mentions": True},
    "sms": {"sender_id": "MLUMIERE"},
    "phone": {"number": "+33478000101", "hours": "lun.-sam. 9 h-19 h"},
}
AGENTS = (  # name, role, team, presence; the first is the supervisor
    ("Sophie Laurent", "supervisor", TEAMS[0], "online"),
    ("Camille Roux", "agent", TEAMS[0], "online"),
    ("Julien Moreau", "agent", TEAMS[0], "away"),
    ("Inès Benali", "agent", TEAMS[1], "online"),
    ("Thomas Girard", "agent", TEAMS[1], "offline"),
)
CONCIERGES = ("Camille Roux", "Julien Moreau")  # the VIP customers' owners, in turn


def load_demo(
    session: Session, seed: int, customer_count: int, conversation_count: int
) -> list[str]:
    """Load the demo once; later calls only mint a fresh admin token. Returns summary lines,
    the token last."""
    workspace = ensure_workspace(session, WORKSPACE_NAME)
    admin = session.scalar(select(User).where(User.email == ADMIN_EMAIL))
    if admin is None:
        now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        cast = _set_up_cast(session, workspace.id)
        plan = plan_demo(seed, now, cast.members, customer_count, conversation_count)
        _write(session, cast, plan)
        admin = cast.admin
    token = create_token(session, admin, "demo")
    login = f"Admin login: {ADMIN_EMAIL} / {ADMIN_PASSWORD}"
    return [_summary(session, workspace.id), login, "API token:", token]


def _summary(session: Session, workspace_id: int) -> str:
    def count(model: Any, *where: Any) -> int:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0

    in_workspace = Conversation.workspace_id == workspace_id
    customers = count(Customer, Customer.workspace_id == workspace_id)
    messages = count(Message.__table__.join(Conversation.__table__), in_workspace)
    channels = count(ChannelAccount, ChannelAccount.workspace_id == workspace_id)
    orders = count(Order, Order.workspace_id == workspace_id)
    answered = count(Survey, Survey.workspace_id == workspace_id, Survey.answered_at.is_not(None))
    return (
        f"Demo data: {customers} customers, {count(Conversation, in_workspace)} conversations, "
        f"{messages} messages, {orders} orders, {answered} satisfaction answers, "
        f"{channels} channels"
    )


# --- The cast: channels, users, teams -------------------------------------------------------


@dataclass
class Cast:
    workspace_id: int
    admin: User
    channels: dict[str, ChannelAccount]
    teams: dict[str, Team]
    members: dict[str, list[User]]


def _set_up_cast(session: Session, workspace_id: int) -> Cast:
    channels: dict[str, ChannelAccount] = {}
    for kind, name, *_ in CHANNELS:
        settings = dict(CHANNEL_SETTINGS[kind])
        channels[kind], _token = create_channel(session, workspace_id, kind, name, settings, SYSTEM)
    admin = _create_user(session, workspace_id, "Claire Dumas", "admin", "Direction")
    members: dict[str, list[User]] = {team: [] for team in TEAMS}
    for name, role, team, presence in AGENTS:
        user = _create_user(session, workspace_id, name, role, team)
        user.presence, user.presence_at = presence, datetime.now(UTC)
        members[team].append(user)
    teams = {
        name: Team(workspace_id=workspace_id, name=name, members=users[:])
        for name, users in members.items()
    }
    session.add_all(teams.values())
    session.flush()
    return Cast(workspace_id, admin, channels, teams, members)


def _create_user(session: Session, workspace_id: int, name: str, role: str, team: str) -> User:
    local = "admin" if role == "admin" else ".".join(map(phrases.slug, name.split()))
    email = f"{local}@maison-lumiere.example"
    user = create_user(session, workspace_id, email, ADMIN_PASSWORD, role, name)
    user.signature = f"{name}\n{team} · {WORKSPACE_NAME}\n{CHANNEL_SETTINGS['email']['address']}"
    return user


# --- Writing, in bulk -----------------------------------------------------------------------


Written = tuple[PlannedConversation, int, int]  # a conversation, its id, its customer's id
ORDER_STATUS_BY_TOPIC = {"delivery": "shipped", "return": "returned", "order_problem": "delivered"}


def _write(session: Session, cast: Cast, plan: DemoPlan) -> None:
    session.flush()
    customer_rows = [_customer_row(cast, customer) for customer in plan.customers]
    _give_vips_a_concierge(cast, plan.customers, customer_rows)
    customer_ids = _insert_ids(session, Customer, customer_rows)
    identity_ids = _write_identities(session, cast, plan.customers, customer_ids)
    written = _write_conversations(session, cast, plan.conversations, customer_ids)
    messages = [row for item in written for row in _message_rows(cast, *item, identity_ids)]
    _insert(session, Message, messages)
    tags = [{"conversation_id": item[1], "tag": tag} for item in written for tag in item[0].tags]
    _insert(session, ConversationTag, tags)
    _write_events(session, cast, written)
    _insert(session, Order, _order_rows(cast, written))
    _insert(session, Survey, survey_rows(cast, written))
    supervisor = cast.members[TEAMS[0]][0]
    write_fields_and_segments(session, cast.workspace_id, supervisor)


def _write_conversations(
    session: Session,
    cast: Cast,
    conversations: list[PlannedConversation],
    customer_ids: list[int],
) -> list[Written]:
    owners = [customer_ids[conversation.customer] for conversation in conversations]
    pairs = list(zip(conversations, owners, strict=True))
    ids = _insert_ids(session, Conversation, [_conversation_row(cast, *pair) for pair in pairs])
    return list(zip(conversations, ids, owners, strict=True))


def _write_events(session: Session, cast: Cast, written: list[Written]) -> None:
    """Each conversation's creation, then its channel switches, as the pipeline records them."""
    created = [_created_event(cast, *item) for item in written]
    switched = [item[:2] for item in written if item[0].switch_at is not None]
    _insert(session, Event, created + _switch_events(session, cast, switched))


# Share of customers satisfied (4 or 5 out of 5) by channel, in the order of what surveys of
# French customers report: in person and on the phone above chat, social networks well below.
SATISFIED_SHARE = {"email": 0.82, "chat": 0.83, "web_form": 0.8, "sms": 0.78}
NOT_SURVEYED = frozenset({"phone", "in_person", "postal"})  # nothing to send the link on
SOCIAL_SATISFIED_SHARE = 0.6
SURVEY_COMMENTS = {
    "fr": ("Réponse rapide, merci !", "Il a fallu relancer deux fois.", "Très aimable."),
    "en": ("Quick answer, thank you!", "I had to ask twice.", "Very kind."),
}


def survey_rows(cast: Cast, written: list[Written]) -> list[dict[str, Any]]:
    """A satisfaction survey after most resolved private conversations, half of them answered,
    satisfaction varying by channel (drawn from the conversation's id: the same every time)."""
    rows: list[dict[str, Any]] = []
    for conversation, conversation_id, _customer_id in written:
        kind = conversation.kind
        if conversation.resolved_at is None or _visibility(kind, IN) == "public":
            continue
        if kind in NOT_SURVEYED:
            continue
        draw = random.Random(conversation_id)
        if draw.random() < 0.2:
            continue  # not asked: asked too recently, no consent...
        sent_at = conversation.resolved_at + timedelta(minutes=15)
        row: dict[str, Any] = {
            "workspace_id": cast.workspace_id,
            "conversation_id": conversation_id,
            "channel_id": cast.channels[kind].id,
            "message_id": None,
            "token_digest": f"{draw.getrandbits(256):064x}",
            "locale": conversation.language,
            "sent_at": sent_at,
            "expires_at": sent_at + timedelta(days=7),
            "created_at": sent_at,
            **dict.fromkeys(("csat", "nps", "solved_first_contact", "answered_at", "comment")),
        }
        if draw.random() < 0.5:
            satisfied = draw.random() < SATISFIED_SHARE.get(kind, SOCIAL_SATISFIED_SHARE)
            row["csat"] = draw.choice((4, 5)) if satisfied else draw.choice((1, 2, 3))
            row["nps"] = min(10, max(0, row["csat"] * 2 + draw.randint(-1, 1)))
            row["solved_first_contact"] = satisfied and draw.random() < 0.8
            row["answered_at"] = sent_at + timedelta(hours=draw.randint(1, 48))
            comments = SURVEY_COMMENTS.get(conversation.language, SURVEY_COMMENTS["fr"])
            row["comment"] = draw.choice(comments) if draw.random() < 0.3 else None
        rows.append(row)
    return rows


def _order_rows(cast: Cast, written: list[Written]) -> list[dict[str, Any]]:
    """The order each conversation speaks of, once per number, bought some days before."""
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for conversation, _conversation_id, customer_id in written:
        number = conversation.values["order"]
        if number in seen or not any(number in m.text for m in conversation.messages):
            continue
        seen.add(number)
        rows.append(_order_row(cast, conversation, customer_id))
    return rows


def _order_row(cast: Cast, conversation: PlannedConversation, customer_id: int) -> dict[str, Any]:
    values = conversation.values
    cents = int(values["amount"].replace(",", ""))  # "129,90" → 12990
    ordered_at = conversation.messages[0].at - timedelta(days=int(values["days"]))
    line = {"sku": None, "name": values["product"], "quantity": 1, "unit_price_minor": cents}
    return {
        "workspace_id": cast.workspace_id,
        "customer_id": customer_id,
        "number": values["order"],
        "number_key": number_key(values["order"]),
        "ordered_at": ordered_at,
        "amount_minor": cents,
        "currency": "EUR",
        "channel": "web",
        "store": None,
        "status": ORDER_STATUS_BY_TOPIC.get(conversation.topic, "delivered"),
        "items": [line],
        "created_at": ordered_at,
        "updated_at": ordered_at,
    }


def _customer_row(cast: Cast, customer: phrases.PlannedCustomer) -> dict[str, Any]:
    return {
        "workspace_id": cast.workspace_id,
        "name": customer.name,
        "attributes": {**customer.attributes, **_extras(customer)},
        "owner_id": None,
        "created_at": customer.created_at,
        "updated_at": customer.created_at,
    }


def _give_vips_a_concierge(
    cast: Cast, customers: list[phrases.PlannedCustomer], rows: list[dict[str, Any]]
) -> None:
    by_name = {user.name: user.id for users in cast.members.values() for user in users}
    owners = [by_name[name] for name in CONCIERGES]
    vips = [row for customer, row in zip(customers, rows, strict=True) if customer.vip]
    for index, row in enumerate(vips):
        row["owner_id"] = owners[index % len(owners)]


def _extras(customer: phrases.PlannedCustomer) -> dict[str, Any]:
    email = customer.identities["email"][0]
    return customer_extras(email, customer.created_at, customer.identities)


def _write_identities(
    session: Session,
    cast: Cast,
    customers: list[phrases.PlannedCustomer],
    customer_ids: list[int],
) -> dict[tuple[int, str], int]:
    """Insert every identity; return their ids by (customer id, identity kind)."""
    rows = [
        {
            "workspace_id": cast.workspace_id,
            "customer_id": customer_id,
            "kind": kind,
            "value": value,
            "display_name": customer.name,
            "verified": verified,
            "attributes": identity_extras(kind, value),
            "created_at": customer.created_at,
        }
        for customer, customer_id in zip(customers, customer_ids, strict=True)
        for kind, (value, verified) in customer.identities.items()
    ]
    statement = insert(Identity).returning(Identity.customer_id, Identity.kind, Identity.id)
    return {
        (customer_id, kind): identity_id
        for chunk in _chunks(rows, BATCH_SIZE)
        for customer_id, kind, identity_id in session.execute(statement, chunk)
    }


def _conversation_row(
    cast: Cast, conversation: PlannedConversation, customer_id: int
) -> dict[str, Any]:
    said = [message for message in conversation.messages if message.direction != NOTE]
    inbound = [message.at for message in said if message.direction == IN]
    replies = [message.at for message in said if message.direction == OUT]
    return {
        "workspace_id": cast.workspace_id,
        "customer_id": customer_id,
        "origin_channel_id": cast.channels[conversation.origin].id,
        "channel_id": cast.channels[conversation.kind].id,
        "status": conversation.status,
        "priority": conversation.priority,
        "visibility": _visibility(conversation.kind, IN),
        "assignee_id": conversation.assignee.id if conversation.assignee else None,
        "team_id": cast.teams[conversation.team].id,
        "subject": conversation.subject,
        "first_inbound_at": inbound[0],
        "first_response_at": replies[0] if replies else None,
        "last_inbound_at": inbound[-1],
        "last_activity_at": said[-1].at,
        "resolved_at": conversation.resolved_at,
        "created_at": inbound[0],
        "updated_at": conversation.resolved_at or said[-1].at,
    }


def _message_rows(
    cast: Cast,
    conversation: PlannedConversation,
    conversation_id: int,
    customer_id: int,
    identity_ids: dict[tuple[int, str], int],
) -> Iterator[dict[str, Any]]:
    for message in conversation.messages:
        identity_id = identity_ids[customer_id, SPECS[message.kind].identity_kind]
        author_id = message.author.id if message.author else None
        yield {
            "conversation_id": conversation_id,
            "channel_id": cast.channels[message.kind].id,
            "direction": message.direction,
            "identity_id": None if message.direction == NOTE else identity_id,
            "author_id": author_id,
            "signed_by_id": author_id if message.signed else None,
            "text": message.text,
            "provider_message_id": message.provider_id,
            "status": message.status,
            "visibility": _visibility(message.kind, message.direction),
            "occurred_at": message.at,
            "created_at": message.at,
        }


def _visibility(kind: str, direction: str) -> str:
    return "public" if kind in PUBLIC_KINDS and direction != NOTE else "private"


Change = tuple[str, dict[str, Any] | None, dict[str, Any]]  # action, before, after


def _event(
    cast: Cast, channel_id: int, conversation_id: int, at: datetime, change: Change
) -> dict[str, Any]:
    """An event row shaped like those ``record_event`` writes, dated ``at``."""
    action, before, after = change
    return {
        "workspace_id": cast.workspace_id,
        "occurred_at": at,
        "actor_kind": ActorKind.CHANNEL.value,
        "actor_id": channel_id,
        "subject_type": "conversation",
        "subject_id": conversation_id,
        "action": action,
        "before": before,
        "after": after,
    }


def _created_event(
    cast: Cast, conversation: PlannedConversation, conversation_id: int, customer_id: int
) -> dict[str, Any]:
    channel_id = cast.channels[conversation.origin].id
    visibility = _visibility(conversation.origin, IN)
    after = {"customer_id": customer_id, "channel_id": channel_id, "visibility": visibility}
    at = conversation.messages[0].at
    return _event(cast, channel_id, conversation_id, at, ("conversation.created", None, after))


def _switch_events(
    session: Session, cast: Cast, switched: list[tuple[PlannedConversation, int]]
) -> list[dict[str, Any]]:
    """Each channel switch as the inbound pipeline records it, dated when the customer first
    wrote on the new channel."""
    first_on = _first_inbound_per_channel(session, [item[1] for item in switched])
    rows = []
    for conversation, conversation_id in switched:
        message = conversation.messages[conversation.switch_at or 0]
        old, new = cast.channels[conversation.origin].id, cast.channels[message.kind].id
        after = {"channel_id": new, "message_id": first_on[conversation_id, new]}
        changes: list[Change] = [("conversation.channel_switched", {"channel_id": old}, after)]
        if conversation.origin in PUBLIC_KINDS and message.kind not in PUBLIC_KINDS:
            private = {"visibility": "private"}
            changes.append(("conversation.moved_to_private", {"visibility": "public"}, private))
        rows += [_event(cast, new, conversation_id, message.at, change) for change in changes]
    return rows


def _first_inbound_per_channel(
    session: Session, conversation_ids: list[int]
) -> dict[tuple[int, int], int]:
    """The id of the first inbound message by (conversation id, channel id)."""
    first: dict[tuple[int, int], int] = {}
    for chunk in _chunks(conversation_ids, BATCH_SIZE):
        rows = session.execute(
            select(Message.conversation_id, Message.channel_id, Message.id)
            .where(Message.conversation_id.in_(chunk), Message.direction == IN)
            .order_by(Message.occurred_at.desc(), Message.id.desc())
        )
        first.update({(row[0], row[1]): row[2] for row in rows})
    return first


def _chunks(rows: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _insert_ids(session: Session, model: Any, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Bulk insert; return the new ids in the order of ``rows`` (on PostgreSQL too)."""
    statement = insert(model).returning(model.id, sort_by_parameter_order=True)
    chunks = _chunks(rows, RETURNING_BATCH_SIZE)
    return [new_id for chunk in chunks for new_id in session.scalars(statement, chunk)]


def _insert(session: Session, model: Any, rows: Sequence[dict[str, Any]]) -> None:
    for chunk in _chunks(rows, BATCH_SIZE):
        session.execute(insert(model), chunk)
