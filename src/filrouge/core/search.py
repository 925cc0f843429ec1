"""Full-text search across messages, customers and orders, ranked and highlighted.

SQLite reads the FTS5 tables (bm25), PostgreSQL the tsvector indexes (ts_rank_cd); both are
written by the database itself (migration 0017), so every write path keeps them current. What a
user may see is decided by ``core/access.py``: a contributor finds only the conversations (and
their customers' records) they may open, nobody finds another workspace's.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ColumnElement, Select, and_, exists, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session

from filrouge.core import search_postgresql, search_sqlite
from filrouge.core.access import conversation_scope, customer_scope
from filrouge.core.errors import Invalid
from filrouge.core.models import Conversation, Customer, Identity, Message, Order, User
from filrouge.core.models.enums import Role
from filrouge.core.search_markup import highlight_words
from filrouge.core.search_query import SearchQuery, parse_query

KINDS = ("messages", "customers", "orders")
MAX_LIMIT = 100
MAX_OFFSET = 1000  # ranked results: nobody reads the 50th page, and each page costs more
EXACT_SCORE = 1000.0
# Messages are ranked among the latest matches (of the channel and dates asked for): a word
# found in a third of a million messages is not scored a million times. A status or a
# contributor's rights, known only from the conversation, look further back.
CANDIDATES = 2000
NARROWED_CANDIDATES = 10000  # an email, a phone number or an order number typed whole comes first


@dataclass(frozen=True)
class SearchFilters:
    kinds: tuple[str, ...] = KINDS
    channel_id: int | None = None  # messages on that channel
    status: str | None = None  # messages of conversations in that status
    since: datetime | None = None
    until: datetime | None = None

    @property
    def on_conversations(self) -> bool:
        """Channel and status describe conversations: customers and orders have neither."""
        return self.channel_id is not None or self.status is not None


@dataclass
class Hit:
    kind: str  # "message", "customer", "order"
    id: int
    score: float
    occurred_at: datetime | None
    conversation_id: int | None = None
    customer_id: int | None = None
    channel_id: int | None = None
    status: str | None = None
    title: str = ""
    snippet: str = ""  # escaped HTML, matches in <mark>
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class SearchResults:
    hits: list[Hit]
    next_cursor: str | None


def search(
    session: Session,
    user: User,
    typed: str,
    filters: SearchFilters | None = None,
    limit: int = 20,
    cursor: str | None = None,
    region: str = "FR",
) -> SearchResults:
    """The best ``limit`` hits for ``typed`` after ``cursor`` (an opaque page position)."""
    filters = filters or SearchFilters()
    _check_kinds(filters.kinds)
    query = parse_query(typed, region)
    _backend(session).plan_each_search(session)
    limit = max(1, min(limit, MAX_LIMIT))
    offset = _offset_of(cursor)
    wanted = offset + limit + 1
    hits: list[Hit] = []
    for kind in filters.kinds:
        if kind != "messages" and filters.on_conversations:
            continue
        hits += KIND_SEARCHES[kind](session, user, query, filters, wanted)
    hits.sort(key=lambda hit: (-hit.score, hit.kind, -hit.id))
    page = hits[offset : offset + limit]
    _add_snippets(session, query, page)
    more = len(hits) > offset + limit and offset + limit < MAX_OFFSET
    return SearchResults(page, _cursor_of(offset + limit) if more else None)


def matching_conversations(user: User, typed: str, region: str = "FR") -> ColumnElement[bool]:
    """The condition selecting the conversations whose messages (or subject, or customer)
    match ``typed``, for the inbox's search box; it compiles for either database."""
    query = parse_query(typed, region)
    exact = _exact_customer_ids(query, user)
    return ByDialect(
        *(
            Conversation.id.in_(
                select(Message.conversation_id)
                .where(Message.id.in_(backend.message_ids(query)))
                .union(
                    select(Conversation.id).where(
                        Conversation.customer_id.in_(select(backend.customer_match(query).c.id))
                        | Conversation.customer_id.in_(exact)
                    )
                )
            )
            for backend in (search_sqlite, search_postgresql)
        )
    )


class ByDialect(ColumnElement[bool]):
    """One condition written twice, compiled as the database needs it."""

    inherit_cache = False
    type = Boolean()

    def __init__(self, sqlite: ColumnElement[bool], postgresql: ColumnElement[bool]) -> None:
        self.sqlite = sqlite
        self.postgresql = postgresql


@compiles(ByDialect)
def _compile_for_sqlite(element: ByDialect, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.sqlite, **kw))


@compiles(ByDialect, "postgresql")
def _compile_for_postgresql(element: ByDialect, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.postgresql, **kw))


def _check_kinds(kinds: tuple[str, ...]) -> None:
    unknown = [kind for kind in kinds if kind not in KINDS]
    if unknown or not kinds:
        raise Invalid(
            "invalid_choice",
            "{field} must be one of: {allowed}.",
            field="kind",
            allowed=", ".join(KINDS),
        )


def _backend(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    return search_postgresql if dialect == "postgresql" else search_sqlite


# --- messages ------------------------------------------------------------------------------


def _message_hits(
    session: Session, user: User, query: SearchQuery, filters: SearchFilters, wanted: int
) -> list[Hit]:
    narrowed = user.role == Role.CONTRIBUTOR or filters.status is not None
    cap = NARROWED_CANDIDATES if narrowed else CANDIDATES
    dated = filters.since is not None or filters.until is not None
    ranked = _backend(session).message_candidates(
        query, cap, session, _message_filters(filters), dated
    )
    statement = (
        select(
            Message.id,
            Message.conversation_id,
            Conversation.customer_id,
            Message.occurred_at,
            Message.channel_id,
            Conversation.status,
            Conversation.subject,
            ranked.c.score,
        )
        .select_from(ranked)
        .join(Message, Message.id == ranked.c.id)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(conversation_scope(user), *_conversation_filters(filters))
        .order_by(ranked.c.score.desc(), Message.id.desc())
        .limit(wanted)
    )
    return [
        Hit(
            "message",
            row.id,
            float(row.score),
            row.occurred_at,
            conversation_id=row.conversation_id,
            customer_id=row.customer_id,
            channel_id=row.channel_id,
            status=row.status,
            title=row.subject or "",
        )
        for row in session.execute(statement)
    ]


def _message_filters(filters: SearchFilters) -> list[ColumnElement[bool]]:
    """Filters on the message itself: applied while the candidates are gathered."""
    conditions: list[ColumnElement[bool]] = []
    if filters.channel_id is not None:
        conditions.append(Message.channel_id == filters.channel_id)
    return conditions + _dated(Message.occurred_at, filters)


def _conversation_filters(filters: SearchFilters) -> list[ColumnElement[bool]]:
    if filters.status is None:
        return []
    return [Conversation.status == filters.status]


# --- customers -----------------------------------------------------------------------------


def _customer_hits(
    session: Session, user: User, query: SearchQuery, filters: SearchFilters, wanted: int
) -> list[Hit]:
    backend = _backend(session)
    scores: dict[int, float] = dict.fromkeys(
        session.scalars(
            select(Customer.id).where(Customer.id.in_(_exact_customer_ids(query, user)))
        ),
        EXACT_SCORE,
    )
    ranked = backend.customer_match(query)
    found = session.execute(
        select(Customer.id, ranked.c.score)
        .join(ranked, ranked.c.id == Customer.id)
        .where(_live_customer(user), *_dated(Customer.created_at, filters))
        .order_by(ranked.c.score.desc(), Customer.id.desc())
        .limit(wanted)
    )
    for row in found:
        scores.setdefault(row.id, float(row.score))
    customers = session.scalars(
        select(Customer).where(Customer.id.in_(scores), *_dated(Customer.created_at, filters))
    )
    return [
        Hit("customer", c.id, scores[c.id], c.created_at, customer_id=c.id, title=c.name or "")
        for c in customers
    ]


def _exact_customer_ids(query: SearchQuery, user: User) -> Select[tuple[int]]:
    values = [*query.phone_forms[:1], *([query.email] if query.email else [])]
    return select(Identity.customer_id).where(
        Identity.workspace_id == user.workspace_id,
        Identity.value.in_(values),
        Identity.customer_id.in_(select(Customer.id).where(_live_customer(user))),
    )


def _live_customer(user: User) -> ColumnElement[bool]:
    return and_(customer_scope(user), Customer.merged_into_id.is_(None))


# --- orders --------------------------------------------------------------------------------


def _order_hits(
    session: Session, user: User, query: SearchQuery, filters: SearchFilters, wanted: int
) -> list[Hit]:
    backend = _backend(session)
    visible = _visible_order(user)
    dated = _dated(Order.ordered_at, filters)
    scores: dict[int, float] = {}
    if query.order_key:
        exact = select(Order.id).where(Order.number_key == query.order_key, visible, *dated)
        scores = dict.fromkeys(session.scalars(exact), EXACT_SCORE)
    ranked = backend.order_match(query)
    found = session.execute(
        select(Order.id, ranked.c.score)
        .join(ranked, ranked.c.id == Order.id)
        .where(visible, *dated)
        .order_by(ranked.c.score.desc(), Order.id.desc())
        .limit(wanted)
    )
    for row in found:
        scores.setdefault(row.id, float(row.score))
    orders = session.scalars(select(Order).where(Order.id.in_(scores)))
    return [
        Hit(
            "order",
            o.id,
            scores[o.id],
            o.ordered_at,
            customer_id=o.customer_id,
            status=o.status,
            title=o.number,
            extra={"items": o.items},
        )
        for o in orders
    ]


def _visible_order(user: User) -> ColumnElement[bool]:
    own = Order.workspace_id == user.workspace_id
    if user.role != Role.CONTRIBUTOR:
        return own
    return and_(own, exists().where(Customer.id == Order.customer_id, customer_scope(user)))


def _dated(column: Any, filters: SearchFilters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.since is not None:
        conditions.append(column >= filters.since)
    if filters.until is not None:
        conditions.append(column < filters.until)
    return conditions


KIND_SEARCHES = {"messages": _message_hits, "customers": _customer_hits, "orders": _order_hits}


# --- snippets and pages --------------------------------------------------------------------


def _add_snippets(session: Session, query: SearchQuery, page: list[Hit]) -> None:
    messages = [hit.id for hit in page if hit.kind == "message"]
    snippets = _backend(session).message_snippets(session, query, messages) if messages else {}
    customers = _customer_words(session, [hit.id for hit in page if hit.kind == "customer"])
    exact = tuple(value for value in (*query.phone_forms, query.email) if value)
    for hit in page:
        if hit.kind == "message":
            hit.snippet = snippets.get(hit.id, "")
        elif hit.kind == "customer":
            hit.snippet = highlight_words(customers.get(hit.id, hit.title), query.terms, exact)
        else:
            hit.snippet = highlight_words(_order_words(hit), query.terms, (hit.title,))


def _customer_words(session: Session, ids: list[int]) -> dict[int, str]:
    """Each customer's name and identities, as one line to highlight."""
    if not ids:
        return {}
    words: dict[int, list[str]] = {}
    for customer in session.scalars(select(Customer).where(Customer.id.in_(ids))):
        words[customer.id] = [customer.name or ""]
    rows = session.execute(
        select(Identity.customer_id, Identity.value)
        .where(Identity.customer_id.in_(ids))
        .order_by(Identity.id)
    )
    for customer_id, value in rows:
        words[customer_id].append(value)
    return {key: " · ".join(part for part in parts if part) for key, parts in words.items()}


def _order_words(hit: Hit) -> str:
    items = hit.extra.get("items") or []
    names = [str(item.get("name", "")) for item in items if isinstance(item, dict)]
    return " · ".join([hit.title, *names])


def _offset_of(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        offset = json.loads(base64.urlsafe_b64decode(padded))["offset"]
    except (ValueError, TypeError, KeyError) as exc:
        raise _bad_cursor() from exc
    if not isinstance(offset, int) or not 0 <= offset <= MAX_OFFSET:
        raise _bad_cursor()
    return offset


def _cursor_of(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode().rstrip("=")


def _bad_cursor() -> Invalid:
    return Invalid("invalid_cursor", "The cursor is not valid.", field="cursor")
