"""An agent corrects a message's triage in one click: type, sentiment, language.

The corrected labels replace the classifier's (its first answer is kept in ``predicted``),
the priority is worked out again from them with the same rule (``triage/priority.py``) and
may raise the conversation's; the change is an event, ``message.triage_corrected``. The
corrections are what ``filrouge triage retrain`` adds to the corpus (``corrections_for_training``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from filrouge.core.actions.triage import raise_priorities, store_triage
from filrouge.core.audit import Actor, record_event
from filrouge.core.errors import Invalid
from filrouge.core.models import Conversation, Message, MessageTriage, User
from filrouge.core.models.enums import AUTOMATIC_FLAGS, Direction, Visibility
from filrouge.core.triage_context import TriageItem
from filrouge.i18n import N_
from filrouge.lib.timeutil import utcnow
from filrouge.triage.priority import priority_of
from filrouge.triage.types import SENTIMENTS, TYPES

LABELS = ("language", "type", "sentiment")
SCORE_OF = {"negative": -1.0, "neutral": 0.0, "positive": 1.0}


@dataclass(frozen=True)
class TriageLabels:
    """What the agent says the message is; ``None``: left as it was."""

    language: str | None = None
    type: str | None = None
    sentiment: str | None = None


def correct_triage(
    session: Session,
    message: Message,
    labels: TriageLabels,
    user: User,
    data_dir: Path,
    languages: Sequence[str],
) -> MessageTriage:
    _check(message, labels, languages)
    row = message.triage or _triage_now(session, message, data_dir, languages)
    before = {name: getattr(row, name) for name in LABELS}
    after = {name: getattr(labels, name) or before[name] for name in LABELS}
    if after == before:
        return row
    if not row.corrected:
        row.predicted = {**before, "sentiment_score": row.sentiment_score, "priority": row.priority}
    _apply(row, after, user)
    conversation = session.get_one(Conversation, message.conversation_id)
    record_event(
        session,
        conversation.workspace_id,
        Actor.user(user.id),
        ("conversation", conversation.id),
        "message.triage_corrected",
        before=before,
        after={**after, "message_id": message.id, "priority": row.priority},
    )
    session.flush()
    if message.flag not in AUTOMATIC_FLAGS:
        raise_priorities(session, {conversation.id: [(row.priority, row)]}, Actor.user(user.id))
    return row


def _apply(row: MessageTriage, after: dict[str, str], user: User) -> None:
    if after["sentiment"] != row.sentiment:  # the score agrees with the corrected sentiment
        row.sentiment_score = SCORE_OF[after["sentiment"]] * max(abs(row.sentiment_score), 0.5)
    signals = list(row.signals or [])
    if after["language"] != row.language:  # a person said which language it is
        signals = [code for code in signals if code != "language_uncertain"]
    row.language, row.type, row.sentiment = after["language"], after["type"], after["sentiment"]
    row.signals = signals
    row.priority = priority_of(row.type, row.sentiment, row.sentiment_score, signals)
    row.corrected, row.corrected_by_id, row.corrected_at = True, user.id, utcnow()


def _check(message: Message, labels: TriageLabels, languages: Sequence[str]) -> None:
    if message.direction != Direction.INBOUND:
        raise Invalid(
            "message_not_inbound",
            N_("Only a customer's message has a triage to correct."),
            field="message_id",
        )
    for name, allowed in (("type", TYPES), ("sentiment", SENTIMENTS), ("language", languages)):
        value = getattr(labels, name)
        if value is not None and value not in allowed:
            raise Invalid(
                "invalid_choice",
                "{field} must be one of: {allowed}.",
                field=name,
                allowed=", ".join(allowed),
            )
    if all(getattr(labels, name) is None for name in LABELS):
        raise Invalid(
            "nothing_to_correct",
            N_("Give a type, a sentiment or a language."),
            field="type",
        )


def _triage_now(
    session: Session, message: Message, data_dir: Path, languages: Sequence[str]
) -> MessageTriage:
    """A message stored untriaged (the classifier failed then) is triaged before correcting."""
    conversation = session.get_one(Conversation, message.conversation_id)
    item = triage_item(message, conversation)
    if store_triage(session, [item], data_dir, languages) is None:
        raise Invalid(
            "triage_unavailable",
            N_("This message could not be triaged; try again later."),
            field="message_id",
        )
    session.expire(message, ["triage"])
    row = message.triage
    assert row is not None
    return row


def triage_item(message: Message, conversation: Conversation) -> TriageItem:
    return TriageItem(
        message_id=message.id,
        conversation_id=conversation.id,
        workspace_id=conversation.workspace_id,
        customer_id=conversation.customer_id,
        identity_id=message.identity_id,
        text=message.text or "",
        public=message.visibility == Visibility.PUBLIC,
        occurred_at=message.occurred_at,
        automatic=message.flag in AUTOMATIC_FLAGS,
    )


def corrections_for_training(session: Session) -> list[dict[str, Any]]:
    """Every corrected message as a training row: its text and the labels in force."""
    rows = session.execute(
        select(Message.id, Message.text, MessageTriage)
        .join(MessageTriage, MessageTriage.message_id == Message.id)
        .where(MessageTriage.corrected.is_(True))
        .order_by(Message.id)
    )
    return [
        {
            "text": row.text,
            "type": row.MessageTriage.type,
            "sentiment": row.MessageTriage.sentiment,
            "language": row.MessageTriage.language,
            "message_id": row.id,
        }
        for row in rows
        if (row.text or "").strip()
    ]
