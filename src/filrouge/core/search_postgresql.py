"""Search on PostgreSQL: ``messages.search_vector`` (French and English, accents dropped) and
the GIN expression indexes of migration 0017, ranked by ts_rank_cd; snippets by ts_headline."""

from __future__ import annotations

from functools import reduce
from typing import Any

from sqlalchemy import ColumnElement, Select, func, literal_column, select, union_all
from sqlalchemy.orm import Session

from filrouge.core.models import Customer, Identity, Message, Order
from filrouge.core.search_markup import CLOSE, OPEN, marked_html
from filrouge.core.search_query import SearchQuery

FRENCH = "'public.filrouge_french'::regconfig"
ENGLISH = "'public.filrouge_english'::regconfig"
SIMPLE = "'public.filrouge_simple'::regconfig"
VECTOR: ColumnElement[Any] = literal_column("messages.search_vector")
COMMON = 20_000  # matches above which walking the newest messages back finds them soonest
HEADLINE = f"StartSel={OPEN}, StopSel={CLOSE}, MaxWords=24, MinWords=12"


def message_candidates(
    query: SearchQuery,
    cap: int,
    session: Session | None = None,
    conditions: list[ColumnElement[bool]] | None = None,
) -> Any:
    """(id, score) of the ``cap`` latest matching messages (ranking every match of a
    common word would read a third of the table). A common word is found walking the newest
    messages back; a rarer one through the GIN index, the latest of its matches kept: the
    planner, left alone, sometimes walks back a million messages for a word in a few
    thousand."""
    tsquery = words_query(query, (FRENCH, ENGLISH))
    matching = VECTOR.op("@@")(tsquery)
    newest_first = Message.id.desc()
    if session is not None and _estimated_rows(session, matching) < COMMON:
        newest_first = (Message.id + 0).desc()  # not the primary key's order: the GIN index
    latest = (
        select(Message.id, VECTOR.label("vector"))
        .where(matching, *(conditions or []))
        .order_by(newest_first)
        .limit(cap)
        .subquery()
    )
    score = func.ts_rank_cd(latest.c.vector, tsquery)
    return select(latest.c.id, score.label("score")).subquery()


def _estimated_rows(session: Session, matching: ColumnElement[bool]) -> float:
    """The planner's guess of how many messages match (from the column's statistics)."""
    statement = select(Message.id).where(matching).compile(dialect=session.get_bind().dialect)
    plan = (
        session.connection()
        .exec_driver_sql(f"EXPLAIN (FORMAT JSON) {statement}", statement.params)
        .scalar()
    )
    try:
        return float(plan[0]["Plan"]["Plan Rows"])  # type: ignore[index]
    except (TypeError, KeyError, IndexError, ValueError):
        return float(COMMON)


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
