"""The approval queue: contributors' replies wait here for a supervisor."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from filrouge.core.actions.replies import approve_reply, awaiting_approval, reject_reply
from filrouge.core.errors import NotFound
from filrouge.core.models import ChannelAccount, Conversation, Customer, Message, User
from filrouge.db import transaction
from filrouge.web.deps import FactoryDep
from filrouge.web.schemas import IdPath
from filrouge.web.ui.auth import PageAllowed, Visitor
from filrouge.web.ui.templating import render

router = APIRouter(include_in_schema=False)
Reviewer = Annotated[Visitor, PageAllowed("approvals:review")]


@router.get("/approvals")
def approvals_page(request: Request, factory: FactoryDep, visitor: Reviewer) -> Response:
    with transaction(factory) as session:
        items = [
            {
                "message": message,
                "author": session.get(User, message.author_id),
                "channel": session.get(ChannelAccount, message.channel_id),
                "customer": session.get(
                    Customer, session.get_one(Conversation, message.conversation_id).customer_id
                ),
            }
            for message in awaiting_approval(session, visitor.user.workspace_id)
        ]
        return render(request, "approvals.html", {"items": items}, visitor)


@router.post("/approvals/{message_id}/approve")
def approve(message_id: IdPath, factory: FactoryDep, visitor: Reviewer) -> Response:
    with transaction(factory) as session:
        approve_reply(session, _message(session, visitor, message_id), visitor.user)
    return RedirectResponse("/approvals", status_code=303)


@router.post("/approvals/{message_id}/reject")
def reject(message_id: IdPath, factory: FactoryDep, visitor: Reviewer) -> Response:
    with transaction(factory) as session:
        reject_reply(session, _message(session, visitor, message_id), visitor.user)
    return RedirectResponse("/approvals", status_code=303)


def _message(session: Session, visitor: Visitor, message_id: int) -> Message:
    message = session.get(Message, message_id)
    if (
        message is None
        or session.get_one(Conversation, message.conversation_id).workspace_id
        != visitor.user.workspace_id
    ):
        raise NotFound("message_not_found", "There is no message {id}.", id=message_id)
    return message
