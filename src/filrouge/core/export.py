"""Everything held on one customer, as a zip: ``customer.json`` (the customer and those merged
into it, identities, conversations with their messages, orders, callback requests, the events
about them) and ``attachments/<id>-<name>`` for each stored file. Written to a file handle (a
temporary file), one attachment at a time, never the whole archive in memory."""

from __future__ import annotations

import json
import re
import zipfile
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from filrouge.core.actions.erasure import check_erasable, is_erased, tombstones_of
from filrouge.core.audit import Actor, record_event
from filrouge.core.blobs import BlobStore
from filrouge.core.models import (
    Attachment,
    Base,
    CallbackRequest,
    Conversation,
    Customer,
    Event,
    Identity,
    Message,
    Order,
)
from filrouge.lib.timeutil import isoformat, utcnow

SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class ExportSummary:
    conversations: int
    messages: int
    attachments: int


def export_customer(
    session: Session,
    customer: Customer,
    actor: Actor,
    reason: str,
    blobs: BlobStore,
    handle: IO[bytes],
) -> ExportSummary:
    """Write the zip of ``customer`` to ``handle`` and record who exported it and why."""
    if not is_erased(customer):
        check_erasable(customer)  # a tombstone is refused with the live customer's id
    customers = [customer, *tombstones_of(session, customer)]
    ids = [c.id for c in customers]
    conversations = list(
        session.scalars(
            select(Conversation).where(Conversation.customer_id.in_(ids)).order_by(Conversation.id)
        )
    )
    with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        threads, summary = _threads(session, conversations, blobs, archive)
        document = {
            "exported_at": isoformat(utcnow()),
            "customer": row_of(customer),
            "merged_customers": [row_of(c) for c in customers[1:]],
            "identities": _rows(session, select(Identity).where(Identity.customer_id.in_(ids))),
            "conversations": threads,
            "orders": _rows(session, select(Order).where(Order.customer_id.in_(ids))),
            "callback_requests": _rows(
                session,
                select(CallbackRequest).where(
                    CallbackRequest.conversation_id.in_([c.id for c in conversations])
                ),
            ),
            "events": _events(session, ids, [c.id for c in conversations]),
        }
        archive.writestr("customer.json", json.dumps(document, ensure_ascii=False, indent=2))
    record_event(
        session,
        customer.workspace_id,
        actor,
        ("customer", customer.id),
        "customer.exported",
        after={"reason": reason, **summary.__dict__},
    )
    return summary


def _threads(
    session: Session,
    conversations: list[Conversation],
    blobs: BlobStore,
    archive: zipfile.ZipFile,
) -> tuple[list[dict[str, Any]], ExportSummary]:
    threads, messages, files = [], 0, 0
    for conversation in conversations:
        rows = []
        for message in session.scalars(
            select(Message)
            .where(Message.conversation_id == conversation.id)
            .order_by(Message.occurred_at, Message.id)
        ):
            attachments = [_attachment(a, blobs, archive) for a in message.attachments]
            files += sum(1 for a in attachments if "file" in a)
            rows.append({**row_of(message), "attachments": attachments})
        messages += len(rows)
        threads.append({**row_of(conversation), "messages": rows})
    return threads, ExportSummary(len(conversations), messages, files)


def _attachment(
    attachment: Attachment, blobs: BlobStore, archive: zipfile.ZipFile
) -> dict[str, Any]:
    found = row_of(attachment)
    if attachment.sha256 is None:
        return found
    try:
        content = blobs.get(attachment.sha256)
    except FileNotFoundError:
        found["missing"] = True
        return found
    name = f"attachments/{attachment.id}-{safe_filename(attachment.filename)}"
    archive.writestr(name, content)
    found["file"] = name
    return found


def safe_filename(filename: str) -> str:
    """A name for inside the archive: no folders, no odd characters."""
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    return SAFE_NAME.sub("_", base).strip("._")[:100] or "file"


def _events(session: Session, customer_ids: list[int], conversation_ids: list[int]) -> list[Any]:
    about = or_(
        (Event.subject_type == "customer") & Event.subject_id.in_(customer_ids),
        (Event.subject_type == "conversation") & Event.subject_id.in_(conversation_ids),
    )
    return _rows(session, select(Event).where(about).order_by(Event.id))


def _rows(session: Session, statement: Any) -> list[dict[str, Any]]:
    return [row_of(row) for row in session.scalars(statement)]


def row_of(row: Base) -> dict[str, Any]:
    """Every column of an ORM row, as JSON values."""
    return {column.key: _jsonable(getattr(row, column.key)) for column in row.__table__.columns}


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return isoformat(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value
