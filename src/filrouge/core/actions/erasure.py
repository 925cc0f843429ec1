"""Erasing a customer (the right to erasure): what identifies the person goes, what the
statistics need stays.

In one transaction, for the customer and every tombstone merged into it: unfinished
conversations are closed (the agent is told which); every message of their conversations keeps
its direction, channel, times, status and visibility but its words become ``[effacé]``;
attachments are deleted (their files too, after the commit, unless another attachment has the
same bytes); the search index forgets the old words (core/search_index.py); identities,
orders, thread keys and duplicate suggestions are deleted; the name
goes and the attributes become ``{"erased_at": …}``. Wherever else the person's addresses or
numbers were written (another customer's messages or attributes, raw provider deliveries, the
event log) they are removed too (core/erasure_elsewhere.py). ``customer.erased`` records who
and why, with counts and no personal data.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, cast

from sqlalchemy import CursorResult, Engine, Select, delete, null, select, update
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from filrouge.core.actions.conversations import ConversationChanges, update_conversation
from filrouge.core.audit import Actor, record_event
from filrouge.core.blobs import BlobStore
from filrouge.core.erasure_elsewhere import ERASED_TEXT, erase_elsewhere
from filrouge.core.errors import Conflict
from filrouge.core.models import (
    Attachment,
    CallbackRequest,
    Conversation,
    Customer,
    DuplicateSuggestion,
    Identity,
    Message,
    Order,
    Survey,
    ThreadKey,
)
from filrouge.core.models.enums import ConversationStatus, DeliveryStatus
from filrouge.core.personal_traces import Traces, identity_forms
from filrouge.core.search_index import purge_search_index
from filrouge.lib.timeutil import isoformat, utcnow

ERASED_KEY = "erased_at"
UNFINISHED = (ConversationStatus.NEW, ConversationStatus.OPEN, ConversationStatus.PENDING)
NOT_SENT = (DeliveryStatus.QUEUED, DeliveryStatus.AWAITING_APPROVAL)
_AFTER_COMMIT_KEY = "filrouge_erasure_files"
CHECKPOINT_WAIT_MS = 2000  # readers and writers busy for longer: a later checkpoint does it
BUSY_TIMEOUT_MS = 30000  # as db.py sets it


@dataclass
class Erasure:
    """What an erasure did, in counts (no personal data: it goes in the event log)."""

    customer_id: int
    merged_ids: list[int] = field(default_factory=list)
    closed_conversation_ids: list[int] = field(default_factory=list)
    conversations: int = 0
    messages: int = 0
    attachments: int = 0
    files: int = 0
    identities: int = 0
    orders: int = 0
    callbacks: int = 0
    elsewhere: dict[str, int] = field(default_factory=dict)

    def counts(self) -> dict[str, Any]:
        return asdict(self)


def is_erased(customer: Customer) -> bool:
    return ERASED_KEY in (customer.attributes or {})


def erase_customer(
    session: Session, customer: Customer, actor: Actor, reason: str, blobs: BlobStore
) -> Erasure:
    """Erase ``customer`` (a live one: a tombstone is refused with the customer it went into)."""
    _lock(session, customer)
    check_erasable(customer)
    customers = [customer, *tombstones_of(session, customer)]
    ids = [c.id for c in customers]
    traces = _traces_of(session, customers)
    conversations = select(Conversation.id).where(Conversation.customer_id.in_(ids))
    messages = select(Message.id).where(Message.conversation_id.in_(conversations))
    callbacks = select(CallbackRequest.id).where(CallbackRequest.conversation_id.in_(conversations))
    subjects = {
        "customer": ids,
        "conversation": list(session.scalars(conversations)),
        "callback": list(session.scalars(callbacks)),
    }
    erasure = Erasure(customer.id, merged_ids=ids[1:])
    erasure.closed_conversation_ids = _close_unfinished(session, ids, actor)
    erasure.conversations = len(subjects["conversation"])
    anonymised = anonymise_conversations(session, conversations, blobs)
    erasure.messages, erasure.attachments = anonymised.messages, anonymised.attachments
    erasure.files, erasure.callbacks = anonymised.files, anonymised.callbacks
    _delete_records(session, ids, erasure)
    erasure.elsewhere = erase_elsewhere(session, ids, subjects, messages, traces)
    owner_id = customer.owner_id
    _blank_customers(customers)
    session.flush()
    purge_search_index(session, ("messages", "customers", "orders"))
    session.expire(customer, ["identities"])
    record_event(
        session,
        customer.workspace_id,
        actor,
        ("customer", customer.id),
        "customer.erased",
        after={"reason": reason, **erasure.counts(), "owner_cleared": owner_id},
    )
    return erasure


def check_erasable(customer: Customer) -> None:
    if is_erased(customer):
        raise Conflict(
            "customer_already_erased", "Customer {id} was already erased.", id=customer.id
        )
    if customer.merged_into_id is not None:
        raise Conflict(
            "customer_merged",
            "Customer {id} was merged into customer {target}: erase customer {target}.",
            id=customer.id,
            target=customer.merged_into_id,
        )


def _lock(session: Session, customer: Customer) -> None:
    """Wait for messages being received for this customer (PostgreSQL: they hold a shared lock
    on its row) and for a merge in progress; then read it again."""
    session.execute(select(Customer.id).where(Customer.id == customer.id).with_for_update())
    session.refresh(customer)


def tombstones_of(session: Session, customer: Customer) -> list[Customer]:
    """Every customer merged into ``customer``, directly or not."""
    found: list[Customer] = []
    frontier = [customer.id]
    while frontier:
        merged = list(
            session.scalars(select(Customer).where(Customer.merged_into_id.in_(frontier)))
        )
        found += merged
        frontier = [c.id for c in merged]
    return found


def _traces_of(session: Session, customers: list[Customer]) -> Traces:
    identities = session.scalars(
        select(Identity).where(Identity.customer_id.in_([c.id for c in customers]))
    ).all()
    values = {form for i in identities for form in identity_forms(i.kind, i.value)}
    names = {c.name for c in customers if c.name} | {i.display_name or "" for i in identities}
    return Traces.of(values, names)


def _close_unfinished(session: Session, ids: list[int], actor: Actor) -> list[int]:
    unfinished = session.scalars(
        select(Conversation)
        .where(Conversation.customer_id.in_(ids), Conversation.status.in_(UNFINISHED))
        .order_by(Conversation.id)
    ).all()
    for conversation in unfinished:
        update_conversation(
            session, conversation, ConversationChanges(status=ConversationStatus.CLOSED), actor
        )
    return [conversation.id for conversation in unfinished]


@dataclass(frozen=True)
class Anonymised:
    messages: int
    attachments: int
    files: int
    callbacks: int


def anonymise_conversations(
    session: Session, conversations: Select[tuple[int]], blobs: BlobStore
) -> Anonymised:
    """The words of these conversations go, their shape stays: every message becomes
    ``[effacé]`` (direction, channel, times, status kept), attachments are deleted (files after
    the commit, unless another attachment has the same bytes), subjects and callback numbers
    are blanked, satisfaction comments too (the ratings stay: they are statistics)."""
    messages = select(Message.id).where(Message.conversation_id.in_(conversations))
    attachments, digests = _delete_attachments(session, messages)
    anonymised = Anonymised(
        messages=_anonymise_messages(session, conversations),
        attachments=attachments,
        files=len(digests),
        callbacks=_blank_callbacks(session, conversations),
    )
    _execute(
        session,
        update(Conversation).where(Conversation.id.in_(conversations)).values(subject=None),
    )
    _execute(
        session,
        update(Survey).where(Survey.conversation_id.in_(conversations)).values(comment=None),
    )
    _delete_files_after_commit(session, blobs, digests)
    if anonymised.messages:
        purge_search_index(session, ("messages",))
    return anonymised


def _delete_attachments(session: Session, messages: Select[tuple[int]]) -> tuple[int, list[str]]:
    """Delete the attachment rows: how many, and the digests whose file no other needs."""
    rows = session.execute(
        select(Attachment.id, Attachment.sha256).where(Attachment.message_id.in_(messages))
    ).all()
    if not rows:
        return 0, []
    session.execute(
        delete(Attachment).where(Attachment.id.in_([row.id for row in rows])),
        execution_options={"synchronize_session": False},
    )
    digests = {row.sha256 for row in rows if row.sha256}
    still_used = set(
        session.scalars(select(Attachment.sha256).where(Attachment.sha256.in_(digests)))
    )
    return len(rows), sorted(digests - still_used)


def _anonymise_messages(session: Session, conversations: Select[tuple[int]]) -> int:
    of_customer = Message.conversation_id.in_(conversations)
    _execute(
        session,
        update(Message)
        .where(of_customer, Message.status.in_(NOT_SENT))
        .values(status=DeliveryStatus.FAILED),
    )
    return _execute(
        session,
        update(Message)
        .where(of_customer)
        .values(text=ERASED_TEXT, html=None, details=null(), error=None, provider_message_id=None),
    )


def _blank_callbacks(session: Session, conversations: Select[tuple[int]]) -> int:
    return _execute(
        session,
        update(CallbackRequest)
        .where(CallbackRequest.conversation_id.in_(conversations))
        .values(phone="", outcome_note=None, requester_ip=None, call_error=None),
    )


def _delete_records(session: Session, ids: list[int], erasure: Erasure) -> None:
    identities = list(session.scalars(select(Identity.id).where(Identity.customer_id.in_(ids))))
    if identities:
        _execute(
            session,
            update(Message).where(Message.identity_id.in_(identities)).values(identity_id=None),
        )
    _execute(
        session,
        delete(ThreadKey).where(
            ThreadKey.customer_id.in_(ids)
            | ThreadKey.conversation_id.in_(
                select(Conversation.id).where(Conversation.customer_id.in_(ids))
            )
        ),
    )
    erasure.orders = _execute(session, delete(Order).where(Order.customer_id.in_(ids)))
    _execute(
        session,
        delete(DuplicateSuggestion).where(
            DuplicateSuggestion.customer_id.in_(ids) | DuplicateSuggestion.other_id.in_(ids)
        ),
    )
    erasure.identities = _execute(session, delete(Identity).where(Identity.id.in_(identities)))


def _blank_customers(customers: list[Customer]) -> None:
    erased_at = isoformat(utcnow())
    for customer in customers:
        customer.name = None
        customer.attributes = {ERASED_KEY: erased_at}
        customer.owner_id = None


def _execute(session: Session, statement: Any) -> int:
    result = session.execute(statement, execution_options={"synchronize_session": False})
    return int(cast(CursorResult[Any], result).rowcount or 0)


def _delete_files_after_commit(session: Session, blobs: BlobStore, digests: list[str]) -> None:
    """Files go once the rows are gone for good (a rollback keeps both)."""
    _blobs, staged, bind = session.info.get(_AFTER_COMMIT_KEY, (blobs, [], session.get_bind()))
    session.info[_AFTER_COMMIT_KEY] = (blobs, [*staged, *digests], bind)


@sa_event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    pending = session.info.pop(_AFTER_COMMIT_KEY, None)
    if pending is None:
        return
    blobs, digests, bind = pending
    for digest in digests:
        blobs.delete(digest)
    if isinstance(bind, Engine) and bind.dialect.name == "sqlite":
        checkpoint_wal(bind)


@sa_event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_AFTER_COMMIT_KEY, None)


def checkpoint_wal(engine: Engine) -> bool:
    """SQLite: move the write-ahead log into the file and empty it, so that the old versions
    of erased rows it still holds are gone; False when a reader kept it from finishing."""
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={CHECKPOINT_WAIT_MS}")
        busy, _log, _moved = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.close()
        return not busy
    finally:
        connection.close()
