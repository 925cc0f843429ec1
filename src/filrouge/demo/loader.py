"""Loading the demo: Maison Lumière, a French home-goods retailer with stores in Lyon, Paris and
Bordeaux. All content comes from one ``random.Random(seed)``; rows are written in bulk."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from filrouge.core.actions.channels import create_channel
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
    Team,
    User,
)
from filrouge.core.models.enums import ActorKind, ConversationStatus, DeliveryStatus, Direction
from filrouge.core.signatures import sign_reply
from filrouge.demo import phrases

WORKSPACE_NAME = "Maison Lumière"
ADMIN_EMAIL = "admin@maison-lumiere.example"
ADMIN_PASSWORD = "filrouge-demo"
BATCH_SIZE = 1000
# SQLite cannot order a multi-row RETURNING, so SQLAlchemy inserts those batches row by row and
# splices the results, in time quadratic in the batch size: keep them small.
RETURNING_BATCH_SIZE = 100
IN, OUT, NOTE = Direction.INBOUND.value, Direction.OUTBOUND.value, Direction.NOTE.value
T = TypeVar("T")
SYSTEM = Actor.system()
UNDATED = datetime.min.replace(tzinfo=UTC)


class ChannelSpec(NamedTuple):
    kind: str
    name: str
    identity_kind: str  # how the channel knows its senders
    weight: int  # share of the ordinary private conversations that start here
    provider_id: str | None  # format of provider message ids; {n} is unique within a load


CHANNELS = (
    ChannelSpec("email", "Service client", "email", 30, "<{n}.{seed}@mail.example>"),
    ChannelSpec("web_form", "Formulaire de contact", "email", 12, "form-{seed}-{n}"),
    ChannelSpec("chat", "Chat du site", "chat_visitor", 14, "chat-{seed}-{n}"),
    ChannelSpec("whatsapp", "WhatsApp", "whatsapp", 14, "wamid.{seed}{n:08d}"),
    ChannelSpec("messenger", "Messenger", "messenger", 8, "m_{seed}_{n}"),
    ChannelSpec("facebook_comments", "Page Facebook", "facebook", 0, "104233000000001_{n}"),
    ChannelSpec("x", "X @MaisonLumiere", "x", 0, "186{n:016d}"),
    ChannelSpec("sms", "SMS", "phone", 5, "SM{seed}{n:08d}"),
    ChannelSpec("phone", "Standard téléphonique", "phone", 12, None),
)
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
SPECS = {spec.kind: spec for spec in CHANNELS}
PUBLIC_KINDS = ("facebook_comments", "x")
SOCIAL_KINDS = frozenset({"whatsapp", "messenger", "facebook_comments", "x"})
SWITCH_ROUTES = (
    ("x", "whatsapp"),
    ("facebook_comments", "messenger"),
    ("chat", "email"),
    ("email", "phone"),
    ("sms", "whatsapp"),
    ("web_form", "phone"),
)
TEAMS = ("Service client", "Réseaux sociaux")
AGENTS = (  # name, role, team; the first is the supervisor
    ("Sophie Laurent", "supervisor", TEAMS[0]),
    ("Camille Roux", "agent", TEAMS[0]),
    ("Julien Moreau", "agent", TEAMS[0]),
    ("Inès Benali", "agent", TEAMS[1]),
    ("Thomas Girard", "agent", TEAMS[1]),
)
STATUSES = tuple(status.value for status in ConversationStatus)  # new, open, ..., closed
STATUS_BY_AGE = ((3.0, (30, 30, 20, 20, 0)), (14.0, (3, 15, 20, 45, 17)), (1e9, (1, 3, 5, 36, 55)))
REPLY_DELAY = {"chat": (1, 12), "phone": (20, 240), "email": (25, 1800), "web_form": (40, 2400)}
SOCIAL_REPLY_DELAY = (8, 360)  # minutes


def load_demo(
    session: Session, seed: int, customer_count: int, conversation_count: int
) -> list[str]:
    """Load the demo once; later calls only mint a fresh admin token. Returns summary lines,
    the token last."""
    workspace = ensure_workspace(session, WORKSPACE_NAME)
    admin = session.scalar(select(User).where(User.email == ADMIN_EMAIL))
    if admin is None:
        rng = random.Random(seed)
        now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        cast = _set_up_cast(session, workspace.id)
        customers = phrases.plan_customers(rng, now, customer_count)
        planner = ConversationPlanner(rng, now, seed, cast, customers)
        _write(session, cast, customers, planner.plan_all(conversation_count))
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
    return (
        f"Demo data: {customers} customers, {count(Conversation, in_workspace)} conversations, "
        f"{messages} messages, {channels} channels"
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
    for name, role, team in AGENTS:
        members[team].append(_create_user(session, workspace_id, name, role, team))
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


# --- Conversations --------------------------------------------------------------------------


@dataclass
class PlannedMessage:
    direction: str
    kind: str  # of the channel
    text: str
    status: str
    author: User | None = None
    signed: bool = False
    provider_id: str | None = None
    at: datetime = UNDATED  # set once the conversation's timeline is drawn


@dataclass
class PlannedConversation:
    """A conversation as drawn, before it has ids."""

    customer: int  # index among the planned customers
    person: phrases.PlannedCustomer
    origin: str
    target: str | None  # the channel the customer switches to, if any
    topic: str
    opening: str  # the customer's first message, a template
    answer: str  # the first reply it calls for, a template
    values: dict[str, str]  # what fills the templates
    status: str = ConversationStatus.NEW.value
    priority: str = "normal"
    team: str = TEAMS[0]
    assignee: User | None = None
    tags: list[str] = field(default_factory=list)
    subject: str | None = None
    switch_at: int | None = None  # index of the first message on the target channel
    messages: list[PlannedMessage] = field(default_factory=list)
    resolved_at: datetime | None = None
    said: set[str] = field(default_factory=set)  # so that nobody repeats themselves

    @property
    def language(self) -> str:
        return self.person.language

    @property
    def kind(self) -> str:
        """The channel the customer is on now."""
        return self.messages[-1].kind

    def channel_at(self, index: int) -> str:
        switched = self.switch_at is not None and index >= self.switch_at
        return (self.target or self.origin) if switched else self.origin


class ConversationPlanner:
    """Draws conversations one after another from the one seeded random generator."""

    def __init__(
        self,
        rng: random.Random,
        now: datetime,
        seed: int,
        cast: Cast,
        customers: list[phrases.PlannedCustomer],
    ) -> None:
        self.rng, self.now, self.seed, self.cast, self.customers = rng, now, seed, cast, customers
        self.counter = 0
        routes: list[tuple[str, ...]] = [*SWITCH_ROUTES, *((kind,) for kind in SPECS)]
        self.pools = {route: self._customers_with(route) for route in routes}

    def _customers_with(self, channel_kinds: tuple[str, ...]) -> list[int]:
        needed = {SPECS[kind].identity_kind for kind in channel_kinds}
        people = enumerate(self.customers)
        return [index for index, person in people if needed <= person.identities.keys()]

    def plan_all(self, count: int) -> list[PlannedConversation]:
        if not self.customers:
            return []
        shapes = ["switch"] * round(count * 0.05) + ["public"] * round(count * 0.08)
        shapes += ["private"] * (count - len(shapes))
        self.rng.shuffle(shapes)
        return [self.plan(shape) for shape in shapes]

    def plan(self, shape: str) -> PlannedConversation:
        conversation = self._begin(*self._route(shape))
        start = self.now - timedelta(days=self.rng.uniform(0, 90))
        conversation.status = self._status((self.now - start) / timedelta(days=1))
        directions = self._directions(conversation)
        if conversation.target:
            inbound = [index for index, way in enumerate(directions) if way == IN]
            conversation.switch_at = self.rng.choice(inbound[1:])
        social = conversation.channel_at(len(directions) - 1) in SOCIAL_KINDS
        conversation.team = TEAMS[1] if social else TEAMS[0]
        conversation.assignee = self._assignee(conversation)
        conversation.priority = self._priority(conversation.topic)
        conversation.tags = phrases.pick_tags(self.rng, conversation.topic, conversation.person.vip)
        if conversation.origin in phrases.LETTER_CHANNELS:
            subject = phrases.subject_text(
                conversation.language, conversation.topic, conversation.values
            )
            conversation.subject = subject
        self._converse(conversation, directions, start)
        self._add_note(conversation)
        self._settle(conversation)
        return conversation

    def _route(self, shape: str) -> tuple[str, str | None, int]:
        """Origin channel, channel switched to (or None) and customer index."""
        routes = [route for route in SWITCH_ROUTES if self.pools[route]]
        if shape == "switch" and routes:
            origin, target = self.rng.choice(routes)
            return origin, target, self.rng.choice(self.pools[origin, target])
        publics = [kind for kind in PUBLIC_KINDS if self.pools[(kind,)]]
        if shape == "public" and publics:
            kind = self.rng.choice(publics)
            return kind, None, self.rng.choice(self.pools[(kind,)])
        kind = self.rng.choices(CHANNELS, [spec.weight for spec in CHANNELS])[0].kind
        kind = kind if self.pools[(kind,)] else "email"
        return kind, None, self.rng.choice(self.pools[(kind,)])

    def _begin(self, origin: str, target: str | None, customer: int) -> PlannedConversation:
        public = origin in PUBLIC_KINDS
        topics = phrases.PUBLIC_TOPICS if public else phrases.TOPICS
        topic = self.rng.choices(list(topics), list(topics.values()))[0]
        person = self.customers[customer]
        opening, answer = phrases.scenario(self.rng, person.language, topic, public)
        values = phrases.conversation_values(self.rng, person.language, person.first_name)
        return PlannedConversation(customer, person, origin, target, topic, opening, answer, values)

    def _status(self, age_days: float) -> str:
        weights = next(weights for limit, weights in STATUS_BY_AGE if age_days < limit)
        return self.rng.choices(STATUSES, weights)[0]

    def _directions(self, conversation: PlannedConversation) -> list[str]:
        """Inbound and outbound in order: rounds of customer messages, each answered but
        perhaps the last."""
        inbound = self.rng.choices((1, 2, 3, 4), (42, 33, 15, 10))[0]
        inbound = 1 if conversation.topic == "compliment" else inbound
        inbound = max(inbound, 2) if conversation.target else inbound
        if conversation.status == ConversationStatus.NEW:
            return [IN] * inbound
        answered_last = conversation.status != ConversationStatus.OPEN
        if answered_last:
            rounds = min(inbound, self.rng.choices((1, 2, 3), (55, 30, 15))[0])
        else:
            rounds = 1 + min(inbound - 1, self.rng.choices((0, 1, 2), (20, 50, 30))[0])
        sizes = [1] * rounds
        for _ in range(inbound - rounds):
            sizes[self.rng.randrange(rounds)] += 1
        directions: list[str] = []
        for index, size in enumerate(sizes):
            answered = answered_last or index < rounds - 1
            directions += [IN] * size + ([OUT] if answered else [])
        return directions

    def _assignee(self, conversation: PlannedConversation) -> User | None:
        unassigned = 0.75 if conversation.status == ConversationStatus.NEW else 0.05
        if self.rng.random() < unassigned:
            return None
        return self.rng.choice(self.cast.members[conversation.team])

    def _priority(self, topic: str) -> str:
        urgent = topic in {"order_problem", "complaint", "delivery"}
        weights = (5, 55, 30, 10) if urgent else (25, 65, 9, 1)
        return self.rng.choices(("low", "normal", "high", "urgent"), weights)[0]

    def _converse(
        self, conversation: PlannedConversation, directions: list[str], start: datetime
    ) -> None:
        at = start
        for index, direction in enumerate(directions):
            kind = conversation.channel_at(index)
            if index:
                switched = index == conversation.switch_at
                at += timedelta(minutes=self._gap(directions[index - 1], direction, kind, switched))
            if direction == IN:
                message = self._inbound(conversation, index, kind, directions[index - 1] == OUT)
            else:
                first = OUT not in directions[:index]
                message = self._outbound(
                    conversation, kind, first, conversation.switch_at == index + 1
                )
            message.at = at
            conversation.messages.append(message)

    def _gap(self, previous: str, direction: str, kind: str, switched: bool) -> float:
        """Minutes between two messages."""
        if direction == OUT:
            low, high = REPLY_DELAY.get(kind, SOCIAL_REPLY_DELAY)
        elif previous == OUT:
            low, high = 15, 2880
        else:
            low, high = (5, 600) if switched else (2, 120)
        return self.rng.uniform(low, high)

    def _inbound(
        self, conversation: PlannedConversation, index: int, kind: str, after_reply: bool
    ) -> PlannedMessage:
        if index == 0:
            template = conversation.opening
        else:
            follow_up = self._follow_up(kind, after_reply, index == conversation.switch_at)
            template = phrases.line(self.rng, conversation.language, follow_up, conversation.said)
        body = template.format(**conversation.values)
        text = phrases.customer_text(
            self.rng, conversation.language, kind, body, conversation.person.name, index == 0
        )
        return PlannedMessage(
            IN, kind, text, DeliveryStatus.RECEIVED.value, None, False, self._provider_id(kind)
        )

    @staticmethod
    def _follow_up(kind: str, after_reply: bool, switched: bool) -> str:
        if switched:
            return "called" if kind == "phone" else "switched"
        return f"{'public ' if kind in PUBLIC_KINDS else ''}{'answer' if after_reply else 'nudge'}"

    def _outbound(
        self, conversation: PlannedConversation, kind: str, first: bool, redirect: bool
    ) -> PlannedMessage:
        language = conversation.language
        if redirect and kind in PUBLIC_KINDS:
            template = phrases.line(self.rng, language, "redirect")
        else:
            more = phrases.line(self.rng, language, "more", conversation.said)
            template = conversation.answer if first else more
        body = template.format(**conversation.values)
        first_name = conversation.person.first_name
        draft = phrases.agent_text(self.rng, language, kind, body, first_name, first)
        author = self._author(conversation)
        text, signed = sign_reply(draft, author, kind)
        status = self._delivery_status(kind)
        return PlannedMessage(OUT, kind, text, status, author, signed, self._provider_id(kind))

    def _author(self, conversation: PlannedConversation) -> User:
        if conversation.assignee and self.rng.random() < 0.85:
            return conversation.assignee
        return self.rng.choice(self.cast.members[conversation.team])

    def _delivery_status(self, kind: str) -> str:
        if kind == "phone":
            return DeliveryStatus.SENT.value
        if kind in phrases.LETTER_CHANNELS:
            return self.rng.choices(("sent", "delivered"), (30, 70))[0]
        return self.rng.choices(("delivered", "read"), (35, 65))[0]

    def _add_note(self, conversation: PlannedConversation) -> None:
        if self.rng.random() >= 0.15:
            return
        last = conversation.messages[-1]
        text = phrases.note_text(self.rng, conversation.topic, conversation.values)
        author = conversation.assignee or self.cast.members[TEAMS[0]][0]
        note = PlannedMessage(NOTE, last.kind, text, DeliveryStatus.SENT.value, author)
        note.at = last.at + timedelta(minutes=self.rng.uniform(1, 45))
        conversation.messages.append(note)

    def _settle(self, conversation: PlannedConversation) -> None:
        """Resolve it if due, and move it all back in time so that it ends before now."""
        messages = conversation.messages
        resolved = conversation.status in (ConversationStatus.RESOLVED, ConversationStatus.CLOSED)
        resolution = timedelta(minutes=self.rng.uniform(5, 1440))
        latest = self.now - timedelta(minutes=self.rng.uniform(5, 180))
        end = messages[-1].at + resolution if resolved else messages[-1].at
        shift = max(end - latest, timedelta(0))
        for message in messages:
            message.at -= shift
        conversation.resolved_at = end - shift if resolved else None

    def _provider_id(self, kind: str) -> str | None:
        self.counter += 1
        template = SPECS[kind].provider_id
        return None if template is None else template.format(n=self.counter, seed=self.seed)


# --- Writing, in bulk -----------------------------------------------------------------------


def _write(
    session: Session,
    cast: Cast,
    customers: list[phrases.PlannedCustomer],
    conversations: list[PlannedConversation],
) -> None:
    session.flush()
    customer_ids = _insert_ids(session, Customer, [_customer_row(cast, c) for c in customers])
    identity_ids = _write_identities(session, cast, customers, customer_ids)
    owners = [customer_ids[conversation.customer] for conversation in conversations]
    rows = [
        _conversation_row(cast, c, owner) for c, owner in zip(conversations, owners, strict=True)
    ]
    written = list(
        zip(conversations, _insert_ids(session, Conversation, rows), owners, strict=True)
    )
    _insert(
        session,
        Message,
        [row for item in written for row in _message_rows(cast, *item, identity_ids)],
    )
    tags = [{"conversation_id": item[1], "tag": tag} for item in written for tag in item[0].tags]
    _insert(session, ConversationTag, tags)
    switched = [item[:2] for item in written if item[0].switch_at is not None]
    events = [_created_event(cast, *item) for item in written]
    _insert(session, Event, events + _switch_events(session, cast, switched))


def _customer_row(cast: Cast, customer: phrases.PlannedCustomer) -> dict[str, Any]:
    return {
        "workspace_id": cast.workspace_id,
        "name": customer.name,
        "attributes": customer.attributes,
        "created_at": customer.created_at,
        "updated_at": customer.created_at,
    }


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
