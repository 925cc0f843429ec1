"""Satisfaction surveys: offered after a conversation is resolved (``core/surveys.py`` says who
is asked), answered once through the link's token, before it expires."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from filrouge.core.actions.automatic import NotSent, send_automatic
from filrouge.core.audit import Actor, record_event
from filrouge.core.consent import may_contact
from filrouge.core.errors import Conflict, Gone, NotFound
from filrouge.core.events import publish_after_commit
from filrouge.core.models import (
    ChannelAccount,
    Conversation,
    Customer,
    Message,
    Survey,
    Workspace,
)
from filrouge.core.models.enums import (
    AUTOMATIC_FLAGS,
    ChannelKind,
    ConversationStatus,
    DeliveryStatus,
    Direction,
)
from filrouge.core.surveys import (
    SPAM_TAG,
    Skip,
    SurveyAnswer,
    SurveyPolicy,
    policy_of,
    survey_locale,
    survey_text,
)
from filrouge.lib.secrets import token_digest
from filrouge.lib.timeutil import utcnow

ANSWERED_REPLIES = (DeliveryStatus.QUEUED, DeliveryStatus.SENT, "delivered", "read")


def offer_survey(
    session: Session, conversation_id: int, public_url: str, now: datetime | None = None
) -> Survey | Skip:
    """Ask the customer of a resolved conversation how it went, or say why not (an event
    records either). Safe to call twice: one survey per conversation."""
    now = now or utcnow()
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        return Skip("not_resolved")
    skip = _reason_not_to_ask(session, conversation, now)
    if skip is None:
        token = secrets.token_urlsafe(24)
        customer = session.get_one(Customer, conversation.customer_id)
        locale = survey_locale(customer.attributes)
        channel = session.get_one(ChannelAccount, conversation.channel_id)
        inline = channel.kind == ChannelKind.CHAT
        link = f"{public_url.rstrip('/')}/survey/{token}"
        sent = send_automatic(
            session,
            conversation,
            survey_text(locale, link, inline),
            "survey",
            **({"survey_token": token} if inline else {}),
        )
        if isinstance(sent, NotSent):
            skip = Skip(sent.reason)
        else:
            return _record_sent(session, conversation, sent, token, locale, now)
    record_event(
        session,
        conversation.workspace_id,
        Actor.system(),
        ("conversation", conversation.id),
        "survey.skipped",
        after={"reason": skip.reason},
    )
    return skip


def _reason_not_to_ask(session: Session, conversation: Conversation, now: datetime) -> Skip | None:
    policy = policy_of(session.get_one(Workspace, conversation.workspace_id).settings)
    of_conversation = Message.conversation_id == conversation.id
    checks = (
        ("disabled", lambda: not policy.enabled),
        ("not_resolved", lambda: conversation.status != ConversationStatus.RESOLVED),
        ("spam", lambda: SPAM_TAG in conversation.tags),
        ("already", lambda: _exists(session, Survey, Survey.conversation_id == conversation.id)),
        (
            "no_customer_message",
            lambda: (
                not _exists(
                    session,
                    Message,
                    of_conversation,
                    Message.direction == Direction.INBOUND,
                    Message.flag.is_(None) | Message.flag.not_in(AUTOMATIC_FLAGS),
                )
            ),
        ),
        (
            "no_answer",
            lambda: (
                not _exists(
                    session,
                    Message,
                    of_conversation,
                    Message.direction == Direction.OUTBOUND,
                    Message.author_id.is_not(None),
                    Message.status.in_(ANSWERED_REPLIES),
                )
            ),
        ),
        ("too_soon", lambda: _asked_lately(session, conversation, now, policy.min_days_between)),
        ("no_consent", lambda: not _consents(session, conversation)),
    )
    for reason, applies in checks:
        if applies():
            return Skip(reason)
    return None


def _exists(session: Session, model: type[Survey] | type[Message], *conditions: Any) -> bool:
    return bool(session.scalar(select(exists().where(*conditions).select_from(model))))


def _asked_lately(session: Session, conversation: Conversation, now: datetime, days: int) -> bool:
    if days <= 0:
        return False
    return bool(
        session.scalar(
            select(
                exists()
                .where(
                    Survey.conversation_id == Conversation.id,
                    Conversation.customer_id == conversation.customer_id,
                    Survey.sent_at > now - timedelta(days=days),
                )
                .select_from(Survey)
            )
        )
    )


def _consents(session: Session, conversation: Conversation) -> bool:
    """A survey is service, not marketing: it goes unless the customer said no there."""
    channel = session.get_one(ChannelAccount, conversation.channel_id)
    return may_contact(session.get_one(Customer, conversation.customer_id), channel.kind)


def _record_sent(
    session: Session,
    conversation: Conversation,
    message: Message,
    token: str,
    locale: str,
    now: datetime,
) -> Survey:
    policy = policy_of(session.get_one(Workspace, conversation.workspace_id).settings)
    survey = Survey(
        workspace_id=conversation.workspace_id,
        conversation_id=conversation.id,
        channel_id=message.channel_id,
        message_id=message.id,
        token_digest=token_digest(token),
        locale=locale,
        sent_at=now,
        expires_at=now + timedelta(days=policy.expiry_days),
    )
    session.add(survey)
    session.flush()
    record_event(
        session,
        conversation.workspace_id,
        Actor.system(),
        ("conversation", conversation.id),
        "survey.sent",
        after={"survey_id": survey.id, "message_id": message.id, "channel_id": message.channel_id},
    )
    return survey


def survey_by_token(session: Session, token: str, now: datetime | None = None) -> Survey:
    """The survey a link points at; a forged token is not found, an old one has expired."""
    survey = session.scalar(select(Survey).where(Survey.token_digest == token_digest(token)))
    if survey is None:
        raise NotFound("survey_not_found", "This survey link is not valid.")
    if survey.answered_at is None and (now or utcnow()) >= survey.expires_at:
        raise Gone("survey_expired", "This survey has expired: thank you all the same.")
    return survey


def answer_survey(
    session: Session, token: str, answer: SurveyAnswer, now: datetime | None = None
) -> Survey:
    """Keep the customer's answer: once, before the survey expires."""
    now = now or utcnow()
    survey = survey_by_token(session, token, now)
    if survey.answered_at is not None:
        raise Conflict("survey_already_answered", "This survey was already answered: thank you.")
    policy = policy_of(session.get_one(Workspace, survey.workspace_id).settings)
    survey.csat = answer.csat
    survey.nps = answer.nps if policy.ask_nps else None
    survey.solved_first_contact = answer.solved_first_contact
    survey.comment = (answer.comment or "").strip() or None
    survey.answered_at = now
    record_event(
        session,
        survey.workspace_id,
        Actor.system(),
        ("conversation", survey.conversation_id),
        "survey.answered",
        after={
            "survey_id": survey.id,
            "csat": survey.csat,
            "nps": survey.nps,
            "solved_first_contact": survey.solved_first_contact,
        },
    )
    publish_after_commit(
        session, "survey.answered", survey_id=survey.id, conversation_id=survey.conversation_id
    )
    return survey


def conversation_surveys(session: Session, conversation_ids: list[int]) -> dict[int, Survey]:
    if not conversation_ids:
        return {}
    return {
        s.conversation_id: s
        for s in session.scalars(select(Survey).where(Survey.conversation_id.in_(conversation_ids)))
    }


def set_survey_policy(
    session: Session, workspace: Workspace, policy: SurveyPolicy, actor: Actor
) -> SurveyPolicy:
    """Change who is asked and how (the log keeps the rules before and after)."""
    before = policy_of(workspace.settings).model_dump()
    workspace.settings = {**(workspace.settings or {}), "surveys": policy.model_dump()}
    record_event(
        session,
        workspace.id,
        actor,
        ("workspace", workspace.id),
        "workspace.survey_policy_changed",
        before=before,
        after=policy.model_dump(),
    )
    return policy
