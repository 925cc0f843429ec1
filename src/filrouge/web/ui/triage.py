"""The one-click correction of a message's triage on the conversation page, and the words
the pages use for triage labels."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse, Response

from filrouge.core.access import access_message_by_id
from filrouge.core.actions.triage_corrections import TriageLabels, correct_triage
from filrouge.core.errors import NotFound
from filrouge.db import transaction
from filrouge.i18n import N_
from filrouge.web.deps import FactoryDep, SettingsDep
from filrouge.web.schemas import IdPath
from filrouge.web.ui.auth import PageAllowed, Visitor

router = APIRouter(include_in_schema=False)
Label = Annotated[str | None, Form(max_length=24)]

TRIAGE_LABELS = {
    "types": {
        "question": N_("Question"),
        "complaint": N_("Complaint"),
        "compliment": N_("Compliment"),
        "information": N_("Information"),
        "purchase_intent": N_("Purchase intent"),
        "other": N_("Other"),
    },
    "sentiments": {
        "negative": N_("Negative"),
        "neutral": N_("Neutral"),
        "positive": N_("Positive"),
    },
    "signals": {
        "threat_to_leave": N_("threatens to leave"),
        "threat_to_go_public": N_("threatens to go public"),
        "legal": N_("legal words"),
        "safety": N_("safety words"),
        "public": N_("public"),
        "high_reach": N_("large audience"),
        "vip": N_("VIP"),
        "repeat_contact": N_("wrote several times"),
        "language_uncertain": N_("language uncertain"),
    },
}


@router.post("/conversations/{conversation_id}/messages/{message_id}/triage")
def correct(
    conversation_id: IdPath,
    message_id: IdPath,
    factory: FactoryDep,
    settings: SettingsDep,
    visitor: Annotated[Visitor, PageAllowed("messages:triage")],
    type: Label = None,
    sentiment: Label = None,
    language: Label = None,
) -> Response:
    labels = TriageLabels(language=language or None, type=type or None, sentiment=sentiment or None)
    with transaction(factory) as session:
        message = access_message_by_id(session, visitor.user, message_id)
        if message.conversation_id != conversation_id:
            raise NotFound("message_not_found", "There is no message {id}.", id=message_id)
        correct_triage(
            session, message, labels, visitor.user, settings.data_dir, settings.languages
        )
    return RedirectResponse(
        f"/conversations/{conversation_id}#message-{message_id}", status_code=303
    )
