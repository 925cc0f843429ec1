"""The bell: one's notifications (``/notifications``), and one's presence from the header."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from filrouge.core.actions.notifications import mark_all_read, mark_read
from filrouge.core.models import User
from filrouge.core.notifications import recent_notifications
from filrouge.core.presence import set_presence
from filrouge.db import transaction
from filrouge.web.deps import FactoryDep
from filrouge.web.schemas import IdPath
from filrouge.web.ui.auth import PageAllowed, Visitor
from filrouge.web.ui.templating import locale_for, render

router = APIRouter(include_in_schema=False)
Reader = Annotated[Visitor, PageAllowed("notifications:read")]


@router.get("/notifications")
def notifications_page(request: Request, factory: FactoryDep, visitor: Reader) -> Response:
    locale = locale_for(request, visitor.user)
    with transaction(factory) as session:
        items = recent_notifications(session, visitor.user, locale, limit=100)
    return render(request, "notifications.html", {"items": items}, visitor)


@router.post("/notifications/{notification_id}/read")
def read_notification(notification_id: IdPath, factory: FactoryDep, visitor: Reader) -> Response:
    """Mark it read and go where it points (the conversation), else back to the list."""
    with transaction(factory) as session:
        notification = mark_read(session, visitor.user, notification_id)
        conversation_id = notification.conversation_id
    target = f"/conversations/{conversation_id}" if conversation_id else "/notifications"
    return RedirectResponse(target, status_code=303)


@router.post("/notifications/read-all")
def read_all_notifications(factory: FactoryDep, visitor: Reader) -> Response:
    with transaction(factory) as session:
        mark_all_read(session, visitor.user)
    return RedirectResponse("/notifications", status_code=303)


@router.post("/presence")
def presence(
    factory: FactoryDep,
    visitor: Annotated[Visitor, PageAllowed("presence:set")],
    presence: Annotated[str, Form(max_length=16)],
    next: Annotated[str, Form(max_length=2000)] = "/inbox",
) -> Response:
    """Online, away or offline, from the header; back to the page it was set on."""
    with transaction(factory) as session:
        set_presence(session, session.get_one(User, visitor.user.id), presence)
    safe = next.startswith("/") and not next.startswith("//") and "\\" not in next
    return RedirectResponse(next if safe else "/inbox", status_code=303)
