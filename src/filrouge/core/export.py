"""Everything held on one customer, as a zip: ``customer.json`` (the customer and those merged
into it, identities, conversations with their messages, orders, callback requests, the events
about them) and ``attachments/<id>-<name>`` for each stored file. Written to a file handle (a
temporary file) one file and one conversation at a time, never the whole archive in memory."""

from __future__ import annotations

import io
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
    Survey,
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
    conversation_ids = list(
        session.scalars(
            select(Conversation.id)
            .where(Conversation.customer_id.in_(ids))
            .order_by(Conversation.id)
        )
    )
    with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        files = _write_files(session, conversation_ids, blobs, archive)
        with archive.open("customer.json", "w") as entry, io.TextIOWrapper(entry, "utf-8") as out:
            head = _head(session, customers, conversation_ids)
            messages = _write_document(session, head, conversation_ids, files, out)
    summary = ExportSummary(len(conversation_ids), messages, len(files))
    record_event(
        session,
        customer.workspace_id,
        actor,
        ("customer", customer.id),
        "customer.exported",
        after={"reason": reason, **summary.__dict__},
    )
    return summary


def _head(
    session: Session, customers: list[Customer], conversation_ids: list[int]
) -> dict[str, Any]:
    """Everything but the conversations (written one at a time after it)."""
    ids = [c.id for c in customers]
    return {
        "exported_at": isoformat(utcnow()),
        "customer": row_of(customers[0]),
        "merged_customers": [row_of(c) for c in customers[1:]],
        "identities": _rows(session, select(Identity).where(Identity.customer_id.in_(ids))),
        "orders": _rows(session, select(Order).where(Order.customer_id.in_(ids))),
        "callback_requests": _rows(
            session,
            select(CallbackRequest).where(CallbackRequest.conversation_id.in_(conversation_ids)),
        ),
        "surveys": _rows(
            session, select(Survey).where(Survey.conversation_id.in_(conversation_ids))
        ),
        "events": _events(session, ids, conversation_ids),
    }


def _write_files(
    session: Session, conversation_ids: list[int], blobs: BlobStore, archive: zipfile.ZipFile
) -> dict[int, str]:
    """Each stored file in the archive, one at a time: attachment id → its name there."""
    written: dict[int, str] = {}
    attachments = session.scalars(
        select(Attachment)
        .join(Message, Message.id == Attachment.message_id)
        .where(Message.conversation_id.in_(conversation_ids), Attachment.sha256.is_not(None))
        .order_by(Attachment.id)
    )
    for attachment in attachments:
        try:
            content = blobs.get(attachment.sha256 or "")
        except FileNotFoundError:
            continue
        name = f"attachments/{attachment.id}-{safe_filename(attachment.filename)}"
        archive.writestr(name, content)
        written[attachment.id] = name
    return written


def _write_document(
    session: Session,
    head: dict[str, Any],
    conversation_ids: list[int],
    files: dict[int, str],
    out: IO[str],
) -> int:
    """``customer.json``: the head's fields, then ``conversations``, one at a time."""
    out.write(json.dumps(head, ensure_ascii=False, indent=1)[:-2])
    out.write(',\n "conversations": [\n')
    messages = 0
    for index, conversation_id in enumerate(conversation_ids):
        thread = _thread(session, conversation_id, files)
        messages += len(thread["messages"])
        out.write(("," if index else "") + json.dumps(thread, ensure_ascii=False) + "\n")
    out.write("]}\n")
    return messages


def _thread(session: Session, conversation_id: int, files: dict[int, str]) -> dict[str, Any]:
    conversation = session.get_one(Conversation, conversation_id)
    messages = session.scalars(
        select(Message)
        .where(Message.conversation_id == conversation_id)
        .order_by(Message.occurred_at, Message.id)
    )
    return {
        **row_of(conversation),
        "messages": [
            {**row_of(m), "attachments": [_attachment(a, files) for a in m.attachments]}
            for m in messages
        ],
    }


def _attachment(attachment: Attachment, files: dict[int, str]) -> dict[str, Any]:
    found = row_of(attachment)
    if attachment.id in files:
        found["file"] = files[attachment.id]
    elif attachment.sha256 is not None:
        found["missing"] = True  # its file is no longer in the store
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
