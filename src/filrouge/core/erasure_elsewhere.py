"""An erased person's traces outside their own rows: an address typed in someone else's chat,
another customer's attribute, a provider's raw delivery, the event log.

Addresses and numbers are replaced where they are written (they name one person); a raw
delivery that holds one is emptied; an event that mentions one, or the name, or is about the
person's customers, conversations, messages or callbacks, is redacted (the only change the
event log accepts: migration 0014).
"""

from __future__ import annotations

import re
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    CursorResult,
    LargeBinary,
    Select,
    Text,
    and_,
    false,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Session

from filrouge.core.models import Customer, Event, Message, WebhookDelivery
from filrouge.core.personal_traces import SHORTEST, Traces
from filrouge.lib.timeutil import utcnow

ERASED_TEXT = "[effacé]"
REDACTED = {"redacted": True}
PENDING = "pending"  # a delivery not read yet: the person wrote again, it is theirs to keep


def erase_elsewhere(
    session: Session,
    customer_ids: list[int],
    subjects: dict[str, list[int]],
    messages: Select[tuple[int]],
    traces: Traces,
) -> dict[str, int]:
    """Remove ``traces`` from rows that are not the customers' own; counts of rows changed."""
    # longest first: "+33647219358" goes whole, not as "+" and "33647219358"
    values = sorted({v.lower() for v in traces.values if len(v) >= SHORTEST}, key=len, reverse=True)
    return {
        "other_messages": _scrub_other_messages(session, subjects["conversation"], values),
        "other_customers": _scrub_other_customers(session, customer_ids, values),
        "webhook_deliveries": _empty_deliveries(session, traces.byte_needles()),
        "events": _redact_events(session, subjects, messages, traces.text_needles()),
    }


def _scrub_other_messages(session: Session, conversation_ids: list[int], values: list[str]) -> int:
    if not values:
        return 0
    mentions = or_(*[_text_contains(column, v) for v in values for column in _message_texts()])
    found = session.scalars(
        select(Message).where(mentions, Message.conversation_id.not_in(conversation_ids))
    ).all()
    for message in found:
        message.text = _replaced(message.text, values) or ""
        message.html = _replaced(message.html, values)
    return len(found)


def _message_texts() -> tuple[Any, ...]:
    return (Message.text, Message.html)


def _scrub_other_customers(session: Session, customer_ids: list[int], values: list[str]) -> int:
    """Drop the attributes of other customers that hold an address (``chat_email``…)."""
    if not values:
        return 0
    as_text = sql_cast(Customer.attributes, Text)
    found = session.scalars(
        select(Customer).where(
            or_(*[_text_contains(as_text, v) for v in values]), Customer.id.not_in(customer_ids)
        )
    ).all()
    for customer in found:
        customer.attributes = {
            key: value
            for key, value in customer.attributes.items()
            if not any(v in str(value).lower() for v in values)
        }
    return len(found)


def _empty_deliveries(session: Session, needles: list[bytes]) -> int:
    if not needles:
        return 0
    dialect = session.get_bind().dialect.name
    statement = (
        update(WebhookDelivery)
        .where(
            WebhookDelivery.outcome != PENDING,
            or_(*[_bytes_contain(dialect, WebhookDelivery.body, n) for n in needles]),
        )
        .values(body=b"", outcome="erased", summary={"erased": True})
    )
    return _rowcount(session, statement)


def _redact_events(
    session: Session,
    subjects: dict[str, list[int]],
    messages: Select[tuple[int]],
    needles: list[str],
) -> int:
    about = [
        and_(Event.subject_type == kind, Event.subject_id.in_(ids))
        for kind, ids in subjects.items()
        if ids
    ]
    about.append(and_(Event.subject_type == "message", Event.subject_id.in_(messages)))
    mentions = [
        _text_contains(sql_cast(column, Text), needle)
        for needle in needles
        for column in (Event.before, Event.after)
    ]
    statement = (
        update(Event)
        .where(Event.redacted_at.is_(None), or_(false(), *about, *mentions))
        .values(before=REDACTED, after=REDACTED, redacted_at=utcnow())
    )
    return _rowcount(session, statement)


def _text_contains(column: Any, needle: str) -> ColumnElement[bool]:
    return cast(ColumnElement[bool], func.lower(column).contains(needle, autoescape=True))


def _bytes_contain(dialect: str, column: Any, needle: bytes) -> ColumnElement[bool]:
    """``instr`` on SQLite, ``position(… IN …)`` on PostgreSQL: both work on bytes."""
    value = literal(needle, LargeBinary)
    if dialect == "sqlite":
        return cast(ColumnElement[bool], func.instr(column, value) > 0)
    return cast(ColumnElement[bool], func.position(value.op("IN")(column)) > 0)


def _replaced(text: str | None, values: list[str]) -> str | None:
    if text is None:
        return None
    for value in values:
        text = re.sub(re.escape(value), ERASED_TEXT, text, flags=re.IGNORECASE)
    return text


def _rowcount(session: Session, statement: Any) -> int:
    result = session.execute(statement, execution_options={"synchronize_session": False})
    return int(cast(CursorResult[Any], result).rowcount or 0)
