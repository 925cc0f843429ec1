"""Planning the demo: which customers write, on which channels, what everyone says and when.

Pure and seed-driven: everything is drawn, in a fixed order, from one ``random.Random(seed)``
and nothing here touches the database. The same seed, time and staff give the same plan; the
loader (``filrouge.demo.loader``) writes it."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from filrouge.core.models import User
from filrouge.core.models.enums import ConversationStatus, DeliveryStatus, Direction
from filrouge.core.signatures import sign_reply, signature_style
from filrouge.demo import phrases

IN, OUT, NOTE = Direction.INBOUND.value, Direction.OUTBOUND.value, Direction.NOTE.value
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
STATUSES = tuple(status.value for status in ConversationStatus)  # new, open, ..., closed
STATUS_BY_AGE = ((3.0, (30, 30, 20, 20, 0)), (14.0, (3, 15, 20, 45, 17)), (1e9, (1, 3, 5, 36, 55)))
REPLY_DELAY = {"chat": (1, 12), "phone": (20, 240), "email": (25, 1800), "web_form": (40, 2400)}
SOCIAL_REPLY_DELAY = (8, 360)  # minutes

Staff = Mapping[str, Sequence[User]]  # the members of each team, by team name


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


class DemoPlan(NamedTuple):
    customers: list[phrases.PlannedCustomer]
    conversations: list[PlannedConversation]


def plan_demo(
    seed: int, now: datetime, staff: Staff, customer_count: int, conversation_count: int
) -> DemoPlan:
    """Draw the customers, then their conversations, from ``seed`` alone."""
    rng = random.Random(seed)
    customers = phrases.plan_customers(rng, now, customer_count)
    planner = ConversationPlanner(rng, now, seed, staff, customers)
    return DemoPlan(customers, planner.plan_all(conversation_count))


class ConversationPlanner:
    """Draws conversations one after another from the one seeded random generator."""

    def __init__(
        self,
        rng: random.Random,
        now: datetime,
        seed: int,
        staff: Staff,
        customers: list[phrases.PlannedCustomer],
    ) -> None:
        self.rng, self.now, self.seed, self.staff, self.customers = rng, now, seed, staff, customers
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
        self._triage(conversation, directions)
        self._converse(conversation, directions, start)
        self._add_note(conversation)
        self._settle(conversation)
        return conversation

    # --- Who, where, how urgent ---------------------------------------------------------------

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

    def _triage(self, conversation: PlannedConversation, directions: list[str]) -> None:
        """Team, assignee, priority, tags and, for letters, a subject."""
        social = conversation.channel_at(len(directions) - 1) in SOCIAL_KINDS
        conversation.team = TEAMS[1] if social else TEAMS[0]
        conversation.assignee = self._assignee(conversation)
        conversation.priority = self._priority(conversation.topic)
        conversation.tags = phrases.pick_tags(self.rng, conversation.topic, conversation.person.vip)
        if conversation.origin in phrases.LETTER_CHANNELS:
            language, topic, values = conversation.language, conversation.topic, conversation.values
            conversation.subject = phrases.subject_text(language, topic, values)

    def _assignee(self, conversation: PlannedConversation) -> User | None:
        unassigned = 0.75 if conversation.status == ConversationStatus.NEW else 0.05
        if self.rng.random() < unassigned:
            return None
        return self.rng.choice(self.staff[conversation.team])

    def _priority(self, topic: str) -> str:
        urgent = topic in {"order_problem", "complaint", "delivery"}
        weights = (5, 55, 30, 10) if urgent else (25, 65, 9, 1)
        return self.rng.choices(("low", "normal", "high", "urgent"), weights)[0]

    # --- The exchange -------------------------------------------------------------------------

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
                redirect = conversation.switch_at == index + 1
                message = self._outbound(conversation, kind, first, redirect)
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
        text, signed = sign_reply(draft, author, signature_style(kind))
        status = self._delivery_status(kind)
        return PlannedMessage(OUT, kind, text, status, author, signed, self._provider_id(kind))

    def _author(self, conversation: PlannedConversation) -> User:
        if conversation.assignee and self.rng.random() < 0.85:
            return conversation.assignee
        return self.rng.choice(self.staff[conversation.team])

    def _delivery_status(self, kind: str) -> str:
        if kind == "phone":
            return DeliveryStatus.SENT.value
        if kind in phrases.LETTER_CHANNELS:
            return self.rng.choices(("sent", "delivered"), (30, 70))[0]
        return self.rng.choices(("delivered", "read"), (35, 65))[0]

    def _provider_id(self, kind: str) -> str | None:
        self.counter += 1
        template = SPECS[kind].provider_id
        return None if template is None else template.format(n=self.counter, seed=self.seed)

    # --- The end ------------------------------------------------------------------------------

    def _add_note(self, conversation: PlannedConversation) -> None:
        if self.rng.random() >= 0.15:
            return
        last = conversation.messages[-1]
        text = phrases.note_text(self.rng, conversation.topic, conversation.values)
        author = conversation.assignee or self.staff[TEAMS[0]][0]
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
