"""One conversation: the whole thread across channels, the customer 360 panel, the composer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from jinja2 import TemplateError
from sqlalchemy import select
from sqlalchemy.orm import Session

from filrouge.core.access import access_attachment_by_id, access_conversation_by_id
from filrouge.core.actions.canned import fill_canned, list_canned
from filrouge.core.actions.contacts import LOGGED_KINDS, OUTCOMES, ContactLog, log_contact
from filrouge.core.actions.conversations import ConversationChanges, update_conversation
from filrouge.core.actions.replies import (
    add_note,
    add_reply,
    closed_windows,
    reachable_channels,
)
from filrouge.core.actions.sla import sla_context
from filrouge.core.audit import Actor
from filrouge.core.automation.macros import list_macros
from filrouge.core.blobs import BlobStore
from filrouge.core.errors import Invalid, NotFound
from filrouge.core.models import ChannelAccount, Customer, Event, Message, User
from filrouge.core.models.enums import ConversationStatus, Priority
from filrouge.core.order_mentions import mentions_in, orders_mentioned
from filrouge.core.queries import (
    conversation_thread,
    customer_conversations,
    customer_orders,
    customer_surveys,
)
from filrouge.core.routing.history import routing_history
from filrouge.core.uploads import UploadedFile, inline_type, megabytes
from filrouge.db import transaction
from filrouge.lib.timeutil import utcnow
from filrouge.settings import Settings
from filrouge.web.api.attachments import attachment_response
from filrouge.web.deps import FactoryDep, SettingsDep
from filrouge.web.permissions import is_allowed
from filrouge.web.realtime import Broker
from filrouge.web.schemas import IdPath
from filrouge.web.ui import customer_fields
from filrouge.web.ui.auth import PageAllowed, Visitor
from filrouge.web.ui.concierge import concierge_context
from filrouge.web.ui.public_posts import public_post_context
from filrouge.web.ui.templating import locale_for, render

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Form(min_length=1, max_length=64 * 1024)]


@dataclass(frozen=True)
class ThreadEntry:
    at: datetime
    message: Message | None = None
    switch: Event | None = None


@router.get("/conversations/{conversation_id}")
def conversation_page(
    request: Request,
    conversation_id: IdPath,
    factory: FactoryDep,
    settings: SettingsDep,
    visitor: Annotated[Visitor, PageAllowed("conversations:read")],
) -> Response:
    with transaction(factory) as session:  # rendered inside: the page reads relations
        context = page_context(session, visitor, conversation_id)
        context["uploads"] = upload_limits(settings)
        context["triage_languages"] = settings.languages  # the correction's choices
        context.update(
            concierge_context(session, visitor.user, context["customer"], settings.presence_idle)
        )
        context.update(sla_context(session, context["conversation"], utcnow()))
        locale = locale_for(request, visitor.user)
        context["routing"] = routing_history(session, conversation_id, locale)
        return render(request, "conversation.html", context, visitor)


@router.post("/conversations/{conversation_id}/reply")
def reply(
    conversation_id: IdPath,
    factory: FactoryDep,
    settings: SettingsDep,
    visitor: Annotated[Visitor, PageAllowed("conversations:reply")],
    text: Annotated[str, Form(max_length=64 * 1024)] = "",
    channel_id: Annotated[int | None, Form()] = None,
    files: Annotated[list[UploadFile] | None, File()] = None,
    confirm_personal_data: Annotated[str, Form(max_length=3)] = "",
    template: Annotated[str, Form(max_length=512)] = "",
    template_parameters: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """The composer (multipart): the text, the channel, and the files the agent attached; a
    template once the channel's messaging window has closed (one parameter per line)."""
    uploaded = _read_uploads(files or [], settings)
    with transaction(factory) as session:
        conversation = access_conversation_by_id(session, visitor.user, conversation_id)
        add_reply(
            session,
            conversation,
            visitor.user,
            text,
            channel_id,
            attachments=uploaded,
            settings=settings,
            template=_template(template, template_parameters),
            confirm_personal_data=confirm_personal_data == "yes",
        )
    return _back(conversation_id)


def _template(name: str, parameters: str) -> dict[str, Any] | None:
    if not name:
        return None
    return {"name": name, "parameters": [p.strip() for p in parameters.splitlines() if p.strip()]}


def _read_uploads(files: list[UploadFile], settings: Settings) -> list[UploadedFile]:
    """The files' bytes, read no further than one byte past the limit: the core refuses what
    is too large or too many (one file past the count is enough for it to know)."""
    return [
        UploadedFile(
            upload.filename or "",
            upload.content_type or "",
            upload.file.read(settings.max_attachment_bytes + 1),
        )
        for upload in files[: settings.max_reply_attachments + 1]
    ]


def upload_limits(settings: Settings) -> dict[str, Any]:
    """What the composer checks before sending (the server checks again)."""
    return {
        "max_bytes": settings.max_attachment_bytes,
        "max_mb": megabytes(settings.max_attachment_bytes),
        "max_files": settings.max_reply_attachments,
        "max_request": settings.max_request_bytes,
        "max_request_mb": megabytes(settings.max_request_bytes),
    }


@router.post("/conversations/{conversation_id}/note")
def note(
    conversation_id: IdPath,
    factory: FactoryDep,
    visitor: Annotated[Visitor, PageAllowed("conversations:note")],
    text: Text,
) -> Response:
    with transaction(factory) as session:
        conversation = access_conversation_by_id(session, visitor.user, conversation_id)
        add_note(session, conversation, visitor.user, text)
    return _back(conversation_id)


@router.post("/conversations/{conversation_id}/contacts")
def log_contact_here(
    conversation_id: IdPath,
    factory: FactoryDep,
    visitor: Annotated[Visitor, PageAllowed("contacts:log")],
    channel_id: Annotated[int, Form(ge=1, le=2**63 - 1)],
    direction: Annotated[str, Form(pattern="^(inbound|outbound)$")],
    summary: Annotated[str, Form(min_length=1, max_length=8000)],
    occurred_at: Annotated[str, Form(max_length=40)] = "",
    duration_minutes: Annotated[str, Form(max_length=10)] = "",
    store: Annotated[str, Form(max_length=200)] = "",
    outcome: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """A call, a visit or a letter, logged in this conversation (times in the agent's zone)."""
    with transaction(factory) as session:
        conversation = access_conversation_by_id(session, visitor.user, conversation_id)
        customer = session.get_one(Customer, conversation.customer_id)
        entry = ContactLog(
            channel_id=channel_id,
            direction=direction,
            summary=summary,
            occurred_at=local_moment(occurred_at, visitor.user.timezone),
            duration_minutes=_int_or_none(duration_minutes) if duration_minutes else None,
            store=store or None,
            outcome=outcome or None,
        )
        log_contact(session, customer, visitor.user, entry, conversation)
    return _back(conversation_id)


@router.post("/conversations/{conversation_id}/update")
def update(
    conversation_id: IdPath,
    factory: FactoryDep,
    visitor: Annotated[Visitor, PageAllowed("conversations:update")],
    status: Annotated[str | None, Form()] = None,
    priority: Annotated[str | None, Form()] = None,
    assignee: Annotated[str | None, Form(max_length=20)] = None,
    tags: Annotated[str | None, Form(max_length=2000)] = None,
) -> Response:
    changes = ConversationChanges(status=status or None, priority=priority or None)
    if assignee is not None:
        changes.assignee_id = visitor.user.id if assignee == "me" else _int_or_none(assignee)
    if tags is not None:
        changes.tags = [tag for tag in tags.split(",") if tag.strip()]
    with transaction(factory) as session:
        conversation = access_conversation_by_id(session, visitor.user, conversation_id)
        update_conversation(session, conversation, changes, Actor.user(visitor.user.id))
    return _back(conversation_id)


@router.post("/conversations/{conversation_id}/presence", status_code=204)
def presence(
    request: Request,
    conversation_id: IdPath,
    factory: FactoryDep,
    visitor: Annotated[Visitor, PageAllowed("conversations:read")],
    state: Annotated[str, Form(pattern="^(viewing|typing)$")] = "viewing",
) -> Response:
    """Tell the others on this conversation that someone is viewing it or typing a reply."""
    with transaction(factory) as session:
        access_conversation_by_id(session, visitor.user, conversation_id)
    broker: Broker = request.app.state.broker
    broker.publish(
        {
            "type": "presence",
            "conversation_id": conversation_id,
            "user_id": visitor.user.id,
            "name": visitor.user.name,
            "state": state,
        }
    )
    return Response(status_code=204)


@router.get("/attachments/{attachment_id}")
def attachment(
    attachment_id: IdPath,
    factory: FactoryDep,
    settings: SettingsDep,
    visitor: Annotated[Visitor, PageAllowed("attachments:read")],
) -> Response:
    with transaction(factory) as session:
        found = access_attachment_by_id(session, visitor.user, attachment_id)
    return attachment_response(found, BlobStore(settings.attachments_dir))


@router.get("/attachments/{attachment_id}/source")
def attachment_source(
    attachment_id: IdPath,
    factory: FactoryDep,
    settings: SettingsDep,
    visitor: Annotated[Visitor, PageAllowed("attachments:read")],
) -> Response:
    """A mail's original source, shown as plain text (never as a page) to read in the browser."""
    with transaction(factory) as session:
        found = access_attachment_by_id(session, visitor.user, attachment_id)
    if found.content_type != "message/rfc822" or found.sha256 is None:
        raise NotFound("not_a_mail", "Attachment {id} is not a mail.", id=attachment_id)
    raw = BlobStore(settings.attachments_dir).get(found.sha256)
    return Response(
        raw.decode("utf-8", "replace"),
        media_type="text/plain; charset=utf-8",
        headers={
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )


def page_context(session: Session, visitor: Visitor, conversation_id: int) -> dict[str, Any]:
    user = visitor.user
    conversation = access_conversation_by_id(session, user, conversation_id)
    thread = conversation_thread(session, conversation)
    customer = session.get_one(Customer, conversation.customer_id)
    channels = {
        c.id: c
        for c in session.scalars(
            select(ChannelAccount).where(ChannelAccount.workspace_id == user.workspace_id)
        )
    }
    entries = thread_entries(thread.messages, thread.switches)
    mentioned = orders_mentioned(session, user.workspace_id, (m.text for m in thread.messages))
    reply_channels = reachable_channels(session, conversation)
    users = list(
        session.scalars(
            select(User)
            .where(User.workspace_id == user.workspace_id, User.active)
            .order_by(User.name)
        )
    )
    return {
        "conversation": conversation,
        "entries": entries,
        "customer": customer,
        "identities": list(customer.identities),
        "channels": channels,
        "others": [
            c for c in customer_conversations(session, user, customer.id) if c.id != conversation.id
        ],
        "orders": customer_orders(session, customer.id, limit=10),
        "surveys": customer_surveys(session, customer.id, limit=5),
        "now": utcnow(),
        "order_mentions": {m.id: mentions_in(m.text, mentioned) for m in thread.messages},
        "reply_channels": reply_channels,
        "closed_windows": closed_windows(session, conversation, reply_channels),
        **public_post_context(session, conversation),
        "canned": filled_canned(session, customer, user),
        "macros": list_macros(session, user),
        "users": users,
        "authors": {u.id: u for u in users},
        "logged_channels": [c for c in channels.values() if c.kind in LOGGED_KINDS and c.active],
        "outcomes": OUTCOMES,
        "statuses": [s.value for s in ConversationStatus],
        "priorities": [p.value for p in Priority],
        "inline_type": inline_type,
        "privacy_allowed": is_allowed(user.role, "customers:erase"),
        "merge_allowed": is_allowed(user.role, "customers:merge"),
        **customer_fields.fields_context(session, customer, user.role),
        "merged_in": list(
            session.scalars(
                select(Customer).where(Customer.merged_into_id == customer.id).order_by(Customer.id)
            )
        ),
    }


def filled_canned(session: Session, customer: Customer, agent: User) -> list[tuple[str, str]]:
    """Each canned response, already filled in for this customer and this agent."""
    filled = []
    for canned in list_canned(session, agent.workspace_id):
        try:
            filled.append((canned.title, fill_canned(canned.body, customer, agent)))
        except TemplateError:  # a response that cannot be filled is offered as written
            filled.append((canned.title, canned.body))
    return filled


def thread_entries(messages: list[Message], switches: list[Event]) -> list[ThreadEntry]:
    """Messages in order, each channel switch shown just before the message that made it."""
    by_message = {(e.after or {}).get("message_id"): e for e in switches}
    entries: list[ThreadEntry] = []
    for message in messages:
        switch = by_message.get(message.id)
        if switch is not None:
            entries.append(ThreadEntry(message.occurred_at, switch=switch))
        entries.append(ThreadEntry(message.occurred_at, message=message))
    return entries


def local_moment(value: str, zone: str) -> datetime | None:
    """A ``datetime-local`` field, read in the agent's time zone; empty means now."""
    if not value:
        return None
    try:
        naive = datetime.fromisoformat(value)
    except ValueError as exc:
        raise Invalid("invalid_date", "{value} is not a date and time.", value=value) from exc
    return naive.replace(tzinfo=ZoneInfo(zone)) if naive.tzinfo is None else naive


def _back(conversation_id: int) -> Response:
    return RedirectResponse(f"/conversations/{conversation_id}", status_code=303)


def _int_or_none(value: str) -> int | None:
    number = int(value) if value.isdigit() else 0
    return number if 0 < number < 2**63 else None
