"""The duplicates scan, incremental: only customers created or changed since the last scan are
looked at, each against the customers indexed look-ups find for it, in batches, so that a scan
after importing a million customers keeps its memory bounded and a scan with nothing new costs
a few small queries.

Changed since the last scan (the watermark kept in ``workspaces.settings``): identities and
customers with a higher id, customers updated later, subjects of later events (a merge, an
unmerge, an erasure), and the customers of the open suggestions (re-checked every time, so that
one whose evidence is gone is withdrawn). Their candidates:

- the same phone number: ``identities.value IN (…)`` (indexed);
- a chat visitor's typed email: its owner (indexed), and the few customers who typed one of
  the batch's emails (the ``chat_email`` attributes, read once per scan);
- the same name at the same domain: the customers with an email at the batch's domains that
  are not mailbox providers (the providers are counted by the database, once per scan);
- a close name on a social network: the complete name blocks of the customers known only by a
  network (read once per scan, only when a changed customer shares one of their blocks).

The evidence of each pair is the one a full scan gives (``core/duplicates.py``'s finders run
on a set of candidates complete for the pairs of the batch).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, distinct, func, select
from sqlalchemy.orm import Session

from filrouge.core.actions import customer_import_sql as sql
from filrouge.core.duplicates import (
    ADDRESS_KINDS,
    CHAT_EMAIL,
    PHONE_KINDS,
    PROVIDER_DOMAIN_USERS,
    SOCIAL_KINDS,
    Candidate,
    Evidence,
    Pair,
    name_block,
    normalised_name,
    pairs_among,
)
from filrouge.core.models import Customer, Event, Identity, Workspace
from filrouge.core.models.enums import IdentityKind
from filrouge.lib.timeutil import utcnow

BATCH = 5_000  # changed customers looked at together
WATERMARK = "duplicates_scan"
EMAIL = IdentityKind.EMAIL.value


@dataclass
class Watermark:
    identity_id: int = 0
    customer_id: int = 0
    event_id: int = 0
    updated_at: str = ""  # the latest customers.updated_at seen (ISO)

    @classmethod
    def of(cls, workspace: Workspace) -> Watermark | None:
        saved = (workspace.settings or {}).get(WATERMARK)
        return cls(**saved) if isinstance(saved, dict) else None


@dataclass
class ScanCounts:
    """What a scan read: a test (and the log) can see that nothing old was read again."""

    changed: int = 0
    customers_read: int = 0
    identities_read: int = 0


@dataclass
class _Context:
    conn: Connection
    workspace_id: int
    counts: ScanCounts
    providers: set[str] | None = None
    chat_emails: dict[str, list[int]] | None = None
    social: dict[int, Candidate] = field(default_factory=dict)
    social_blocks: set[str] = field(default_factory=set)


def changed_pairs(
    session: Session, workspace: Workspace, also: Iterable[int], counts: ScanCounts
) -> dict[Pair, list[Evidence]]:
    """The pairs of every customer changed since the last scan (or of all customers, the
    first time), and of the customers ``also`` named; moves the watermark forward."""
    conn = session.connection()
    mark = Watermark.of(workspace)
    next_mark = _current_mark(conn, workspace.id)
    changed = sorted(set(_changed_ids(conn, workspace.id, mark)) | set(also))
    counts.changed = len(changed)
    context = _Context(conn, workspace.id, counts)
    found: dict[Pair, list[Evidence]] = {}
    if changed:
        context.social = _social_only(context)
        context.social_blocks = {b for c in context.social.values() for b in _social_blocks(c)}
    blocks_needed: set[str] = set()
    for start in range(0, len(changed), BATCH):
        batch = set(changed[start : start + BATCH])
        found.update(_pairs_of_batch(context, batch, blocks_needed))
    if blocks_needed:
        for pair, evidence in _similar_name_pairs(context, set(changed), blocks_needed).items():
            found.setdefault(pair, []).extend(evidence)
    workspace.settings = {**(workspace.settings or {}), WATERMARK: next_mark.__dict__}
    return found


def _current_mark(conn: Connection, workspace_id: int) -> Watermark:
    def top(column: Any, *where: Any) -> int:
        return int(
            conn.execute(select(func.coalesce(func.max(column), 0)).where(*where)).scalar_one()
        )

    latest = conn.execute(
        select(func.max(Customer.updated_at)).where(Customer.workspace_id == workspace_id)
    ).scalar()
    return Watermark(
        identity_id=top(Identity.id),
        customer_id=top(Customer.id),
        event_id=top(Event.id),
        updated_at=(latest or utcnow()).isoformat(),
    )


def _changed_ids(conn: Connection, workspace_id: int, mark: Watermark | None) -> Iterator[int]:
    live = (Customer.workspace_id == workspace_id, Customer.merged_into_id.is_(None))
    if mark is None:
        yield from conn.execute(select(Customer.id).where(*live)).scalars()
        return
    since = datetime.fromisoformat(mark.updated_at)
    yield from conn.execute(
        select(Customer.id).where(
            *live, (Customer.id > mark.customer_id) | (Customer.updated_at > since)
        )
    ).scalars()
    yield from conn.execute(
        select(Identity.customer_id).where(
            Identity.workspace_id == workspace_id, Identity.id > mark.identity_id
        )
    ).scalars()
    yield from conn.execute(
        select(Event.subject_id).where(
            Event.workspace_id == workspace_id,
            Event.id > mark.event_id,
            Event.subject_type == "customer",
        )
    ).scalars()


def _pairs_of_batch(
    context: _Context, batch: set[int], blocks_needed: set[str]
) -> dict[Pair, list[Evidence]]:
    candidates = _load(context, batch)
    batch = {customer_id for customer_id in batch if customer_id in candidates}
    related = _related_ids(context, [candidates[i] for i in batch]) - candidates.keys()
    candidates.update(_load(context, related))
    for customer_id in batch:
        candidate = candidates[customer_id]
        name = normalised_name(candidate.name)
        if name and name_block(name) in context.social_blocks:
            blocks_needed.add(name_block(name))
        if customer_id in context.social:
            blocks_needed.update(_social_blocks(candidate))
    found = pairs_among(candidates, _providers(context), names=False)
    return {pair: evidence for pair, evidence in found.items() if batch & set(pair)}


def _related_ids(context: _Context, batch: list[Candidate]) -> set[int]:
    conn, workspace_id = context.conn, context.workspace_id
    phones = [v for c in batch for k, v, _n, _v in c.identities if k in PHONE_KINDS]
    emails = [v for c in batch for v in c.emails()]
    typed = [
        c.attributes[CHAT_EMAIL] for c in batch if isinstance(c.attributes.get(CHAT_EMAIL), str)
    ]
    related: set[int] = set()
    for kinds, values in ((PHONE_KINDS, phones), ({EMAIL}, typed)):
        if values:  # kind and value: the unique index (workspace, kind, value)
            related.update(
                conn.execute(
                    select(Identity.customer_id).where(
                        Identity.workspace_id == workspace_id,
                        Identity.kind.in_(sorted(kinds)),
                        sql.among(conn, Identity.value, sorted(set(values)), integers=False),
                    )
                ).scalars()
            )
    chat_emails = _chat_emails(context) if emails else {}
    for email in emails:
        related.update(chat_emails.get(email, []))
    domains = {
        email.rpartition("@")[2] for c in batch if normalised_name(c.name) for email in c.emails()
    } - _providers(context)
    if domains:
        related.update(_customers_at_domains(context, sorted(domains)))
    return related


def _domain_of(conn: Connection) -> Any:
    """The domain of an email identity, as the database computes it."""
    position = func.strpos if sql.is_postgresql(conn) else func.instr
    return func.substr(Identity.value, position(Identity.value, "@") + 1)


def _providers(context: _Context) -> set[str]:
    """The domains where more than 20 live customers have an email (counted once per scan)."""
    if context.providers is None:
        domain = _domain_of(context.conn)
        rows = context.conn.execute(
            select(domain, func.count(distinct(Identity.customer_id)))
            .join(Customer, Customer.id == Identity.customer_id)
            .where(
                Identity.workspace_id == context.workspace_id,
                Identity.kind == EMAIL,
                Customer.merged_into_id.is_(None),
            )
            .group_by(domain)
            .having(func.count(distinct(Identity.customer_id)) > PROVIDER_DOMAIN_USERS)
        )
        context.providers = {str(name) for name, _count in rows}
    return context.providers


def _customers_at_domains(context: _Context, domains: list[str]) -> Iterable[int]:
    conn = context.conn
    return conn.execute(
        select(Identity.customer_id).where(
            Identity.workspace_id == context.workspace_id,
            Identity.kind == EMAIL,
            sql.among(conn, _domain_of(conn), domains, integers=False),
        )
    ).scalars()


def _chat_emails(context: _Context) -> dict[str, list[int]]:
    """Typed email → the customers who typed it (few: kept only when someone else owns it)."""
    if context.chat_emails is None:
        typed = Customer.attributes[CHAT_EMAIL].as_string()
        rows = context.conn.execute(
            select(Customer.id, typed).where(
                Customer.workspace_id == context.workspace_id,
                Customer.merged_into_id.is_(None),
                typed.is_not(None),
            )
        )
        context.chat_emails = {}
        for customer_id, email in rows:
            context.chat_emails.setdefault(email, []).append(customer_id)
    return context.chat_emails


def _load(context: _Context, ids: set[int]) -> dict[int, Candidate]:
    """The live customers among ``ids``, with their identities."""
    if not ids:
        return {}
    conn, ordered = context.conn, sorted(ids)
    candidates = {
        row.id: Candidate(row.id, row.name, row.attributes or {})
        for row in conn.execute(
            select(Customer.id, Customer.name, Customer.attributes).where(
                Customer.merged_into_id.is_(None),
                sql.among(conn, Customer.id, ordered, integers=True),
            )
        )
    }
    context.counts.customers_read += len(candidates)
    rows = conn.execute(
        select(
            Identity.customer_id,
            Identity.kind,
            Identity.value,
            Identity.display_name,
            Identity.verified,
        )
        .where(sql.among(conn, Identity.customer_id, ordered, integers=True))
        .order_by(Identity.id)
    )
    for customer_id, kind, value, display_name, verified in rows:
        context.counts.identities_read += 1
        if customer_id in candidates:
            candidates[customer_id].identities.append((kind, value, display_name, verified))
    return candidates


def _social_only(context: _Context) -> dict[int, Candidate]:
    """The customers known only by a social network (no verified email or phone)."""
    ids = set(
        context.conn.execute(
            select(Identity.customer_id).where(
                Identity.workspace_id == context.workspace_id,
                Identity.kind.in_(sorted(SOCIAL_KINDS)),
            )
        ).scalars()
    )
    loaded = _load(context, ids)
    return {
        customer_id: candidate
        for customer_id, candidate in loaded.items()
        if not any(
            verified and kind in ADDRESS_KINDS for kind, _v, _n, verified in candidate.identities
        )
    }


def _social_blocks(candidate: Candidate) -> set[str]:
    blocks = set()
    for kind, _value, display_name, _verified in candidate.identities:
        social = normalised_name(display_name or candidate.name) if kind in SOCIAL_KINDS else ""
        if social:
            blocks.add(name_block(social))
    return blocks


def _similar_name_pairs(
    context: _Context, changed: set[int], blocks_needed: set[str]
) -> dict[Pair, list[Evidence]]:
    """Close names: the complete blocks needed (one pass over the names, not the identities)."""
    members: dict[int, Candidate] = {}
    rows = context.conn.execute(
        select(Customer.id, Customer.name, Customer.attributes).where(
            Customer.workspace_id == context.workspace_id, Customer.merged_into_id.is_(None)
        ),
    )
    for customer_id, name, attributes in rows:
        normal = normalised_name(name)
        if normal and name_block(normal) in blocks_needed:
            members[customer_id] = Candidate(customer_id, name, attributes or {})
    social = {
        i: c for i, c in context.social.items() if _social_blocks(c) & blocks_needed or i in members
    }
    for customer_id, candidate in social.items():
        members[customer_id] = candidate  # with its identities
    found = pairs_among(members, set(), addresses=False)
    return {pair: evidence for pair, evidence in found.items() if changed & set(pair)}
