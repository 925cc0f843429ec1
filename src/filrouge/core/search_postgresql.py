"""Search on PostgreSQL: ``messages.search_vector`` (French and English, accents dropped) and
the GIN expression indexes of migration 0017, ranked by ts_rank_cd; snippets by ts_headline."""

from __future__ import annotations

from functools import reduce
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    UnaryExpression,
    func,
    literal_column,
    select,
    text,
    union_all,
)
from sqlalchemy.orm import Session

from filrouge.core.models import Customer, Identity, Message, Order
from filrouge.core.search_markup import CLOSE, OPEN, marked_html
from filrouge.core.search_query import SearchQuery

FRENCH = "'public.filrouge_french'::regconfig"
ENGLISH = "'public.filrouge_english'::regconfig"
SIMPLE = "'public.filrouge_simple'::regconfig"
VECTOR: ColumnElement[Any] = literal_column("messages.search_vector")
SAMPLE = 4_000  # newest messages looked at to tell a common word from a rare one
DENSE = 0.01  # the share of matches from which walking the newest messages back is faster
HEADLINE = f"StartSel={OPEN}, StopSel={CLOSE}, MaxWords=24, MinWords=12"


def plan_each_search(session: Session) -> None:
    """Plan every search for its own words and dates. The driver prepares a statement run
    five times on a connection, and PostgreSQL may then keep one plan for every value: the
    plan of a rare word used for a common one (or of a month used for no date) reads the
    table through. One plan per query costs well under a millisecond here."""
    session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


def message_candidates(
    query: SearchQuery,
    cap: int,
    session: Session | None = None,
    conditions: list[ColumnElement[bool]] | None = None,
    dated: bool = False,
) -> Any:
    """(id, score) of the ``cap`` latest matching messages that meet ``conditions`` (ranking
    every match of a common word would read a third of the table). Three ways, the cheapest
    for the query:

    - ``dated`` (a date filter among the conditions): the latest by date, through the index on
      ``occurred_at`` (migration 0022); the planner walks that month back for a common word
      and intersects it with the words' GIN index for a rarer one;
    - a word found often among the newest messages (``DENSE``): walk the newest messages back
      until ``cap`` are found;
    - otherwise through the GIN index, the latest of its matches kept.

    The planner's own guess cannot choose between the last two: a word being typed is a
    prefix (``retar:*``), for which it has no statistics."""
    tsquery = words_query(query, (FRENCH, ENGLISH))
    matching = VECTOR.op("@@")(tsquery)
    conditions = conditions or []
    newest_first: UnaryExpression[Any]
    if dated:
        newest_first = Message.occurred_at.desc()
    elif session is not None and _recent_share(session, tsquery, conditions) >= DENSE:
        newest_first = Message.id.desc()
    else:
        newest_first = (Message.id + 0).desc()  # not the primary key's order: the GIN index
    latest = (
        select(Message.id, VECTOR.label("vector"))
        .where(matching, *conditions)
        .order_by(newest_first)
        .limit(cap)
        .subquery()
    )
    score = func.ts_rank_cd(latest.c.vector, tsquery)
    return select(latest.c.id, score.label("score")).subquery()


def _recent_share(session: Session, tsquery: Any, conditions: list[ColumnElement[bool]]) -> float:
    """The share of the newest ``SAMPLE`` messages meeting ``conditions`` that match: a few
    hundred recent pages, usually in memory. Walking back finds ``cap`` matches after about
    ``cap / share`` messages, read in order; the GIN index reads every match, scattered: walking
    back wins from a few percent on (``DENSE``)."""
    recent = (
        select(VECTOR.label("vector"))
        .select_from(Message)
        .where(*conditions)
        .order_by(Message.id.desc())
        .limit(SAMPLE)
        .subquery()
    )
    counted = select(func.count(), func.count().filter(recent.c.vector.op("@@")(tsquery)))
    seen, found = session.execute(counted).one()
    return found / seen if seen else 0.0


def message_match(query: SearchQuery) -> ColumnElement[bool]:
    return VECTOR.op("@@")(words_query(query, (FRENCH, ENGLISH)))


def message_ids(query: SearchQuery) -> Select[tuple[int]]:
    return select(Message.id).where(message_match(query))


def customer_match(query: SearchQuery) -> Any:
    """(id, score) of the customers whose name, or one of whose identities (an address, a
    number, a handle), has every word."""
    tsquery = words_query(query, (SIMPLE,))
    names = func.filrouge_names(Customer.name)
    values = func.filrouge_identity_words(Identity.value)
    by_name = select(Customer.id.label("id"), func.ts_rank_cd(names, tsquery).label("score"))
    by_identity = select(
        Identity.customer_id.label("id"), func.ts_rank_cd(values, tsquery).label("score")
    )
    either = union_all(
        by_name.where(names.op("@@")(tsquery)), by_identity.where(values.op("@@")(tsquery))
    ).subquery()
    return (
        select(either.c.id, func.max(either.c.score).label("score"))
        .group_by(either.c.id)
        .subquery()
    )


def order_match(query: SearchQuery) -> Any:
    vector = func.filrouge_names(func.filrouge_order_text(Order.number, Order.items))
    tsquery = words_query(query, (SIMPLE,))
    score = func.ts_rank_cd(vector, tsquery)
    return (
        select(Order.id.label("id"), score.label("score"))
        .where(vector.op("@@")(tsquery))
        .subquery()
    )


def words_query(query: SearchQuery, configurations: tuple[str, ...]) -> Any:
    """Every word and phrase required (in any of ``configurations``); a phone number also
    matches in its E.164 and national forms."""
    last = len(query.words) - 1
    parts = [
        _either(configurations, lambda c, w=word, p=query.prefix and i == last: _word(c, w, p))
        for i, word in enumerate(query.words)
    ]
    parts += [
        _either(configurations, lambda c, p=phrase: func.phraseto_tsquery(_config(c), " ".join(p)))
        for phrase in query.phrases
    ]
    tsquery = reduce(lambda a, b: a.op("&&")(b), parts)
    for form in query.phone_forms:
        tsquery = tsquery.op("||")(func.plainto_tsquery(_config(SIMPLE), form.lstrip("+")))
    return tsquery


def _either(configurations: tuple[str, ...], make: Any) -> Any:
    return reduce(lambda a, b: a.op("||")(b), [make(c) for c in configurations])


def _word(configuration: str, word: str, prefix: bool) -> Any:
    if prefix:  # the word is letters and digits only: quoting it is enough
        return func.to_tsquery(_config(configuration), f"'{word}':*")
    return func.plainto_tsquery(_config(configuration), word)


def _config(configuration: str) -> Any:
    return literal_column(configuration)


def message_snippets(session: Session, query: SearchQuery, ids: list[int]) -> dict[int, str]:
    tsquery = words_query(query, (FRENCH, ENGLISH))
    headline = func.ts_headline(_config(FRENCH), Message.text, tsquery, HEADLINE)
    rows = session.execute(select(Message.id, headline).where(Message.id.in_(ids)))
    return {row_id: marked_html(text or "") for row_id, text in rows}
