"""The duplicates review queue: a scan keeps the suggestions up to date, a supervisor merges a
pair or marks it as not the same person (never suggested again)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from filrouge.core.actions.customers import merge_customers
from filrouge.core.audit import Actor, record_event
from filrouge.core.duplicates import Pair, score_of
from filrouge.core.duplicates_scan import WATERMARK, ScanCounts, changed_pairs
from filrouge.core.errors import Conflict, Invalid
from filrouge.core.models import Customer, DuplicateSuggestion, User, Workspace
from filrouge.lib.timeutil import utcnow

OPEN, MERGED, DISMISSED = "open", "merged", "dismissed"


@dataclass
class ScanReport:
    new: int = 0
    updated: int = 0
    withdrawn: int = 0
    counts: ScanCounts = field(default_factory=ScanCounts)


def suggestions_by_likelihood(
    session: Session, workspace_id: int, status: str = OPEN, limit: int = 100
) -> list[DuplicateSuggestion]:
    """The review queue (or the decided pairs), the likeliest first."""
    return list(
        session.scalars(
            select(DuplicateSuggestion)
            .where(
                DuplicateSuggestion.workspace_id == workspace_id,
                DuplicateSuggestion.status == status,
            )
            .order_by(DuplicateSuggestion.score.desc(), DuplicateSuggestion.id)
            .limit(limit)
        )
    )


def refresh_suggestions(session: Session, workspace_id: int, full: bool = False) -> ScanReport:
    """Bring the open suggestions in line with what the customers show now, looking only at
    the customers changed since the last scan (all of them the first time, or ``full``) and
    at the open suggestions. A pair someone already decided on is left as it is; an open one
    whose evidence is gone is withdrawn."""
    _lock_workspace(session, workspace_id)
    workspace = session.get_one(Workspace, workspace_id)
    if full:
        workspace.settings = {k: v for k, v in (workspace.settings or {}).items() if k != WATERMARK}
    known = {
        (row.customer_id, row.other_id): row
        for row in session.scalars(
            select(DuplicateSuggestion).where(DuplicateSuggestion.workspace_id == workspace_id)
        )
    }
    report = ScanReport()
    open_ids = {i for pair, row in known.items() if row.status == OPEN for i in pair}
    found = changed_pairs(session, workspace, open_ids, report.counts)
    for pair, evidence in found.items():
        _keep(session, workspace_id, known.get(pair), pair, evidence, report)
    for pair, row in known.items():
        if row.status == OPEN and pair not in found:
            session.delete(row)
            report.withdrawn += 1
    return report


def _keep(
    session: Session,
    workspace_id: int,
    row: DuplicateSuggestion | None,
    pair: Pair,
    evidence: list[dict[str, object]],
    report: ScanReport,
) -> None:
    if row is None:
        session.add(
            DuplicateSuggestion(
                workspace_id=workspace_id,
                customer_id=pair[0],
                other_id=pair[1],
                score=score_of(evidence),
                evidence=evidence,
                status=OPEN,
            )
        )
        report.new += 1
    elif row.status == OPEN and row.evidence != evidence:
        row.evidence, row.score = evidence, score_of(evidence)
        report.updated += 1


def dismiss_suggestion(session: Session, suggestion: DuplicateSuggestion, user: User) -> None:
    """Not the same person: the pair is never suggested again, and the log says who decided."""
    _check_open(suggestion)
    _decide(suggestion, DISMISSED, user)
    record_event(
        session,
        suggestion.workspace_id,
        Actor.user(user.id),
        ("customer", suggestion.customer_id),
        "customer.duplicate_dismissed",
        after={"other_id": suggestion.other_id, "evidence": suggestion.evidence},
    )


def merge_suggestion(
    session: Session, suggestion: DuplicateSuggestion, user: User, target_id: int | None
) -> Customer:
    """Merge the pair into ``target_id`` (one of the two; by default the older customer).
    Other open suggestions of the merged customer are withdrawn: the next scan makes them
    again for the customer that now holds the history, if the evidence still holds."""
    _check_open(suggestion)
    pair = (suggestion.customer_id, suggestion.other_id)
    target_id = pair[0] if target_id is None else target_id
    if target_id not in pair:
        raise Invalid(
            "not_in_suggestion",
            "Customer {id} is not one of the two customers of this suggestion.",
            field="target_id",
            id=target_id,
        )
    other_id = pair[1] if target_id == pair[0] else pair[0]
    target = session.get_one(Customer, target_id)
    merged = merge_customers(
        session, target, session.get_one(Customer, other_id), Actor.user(user.id)
    )
    _decide(suggestion, MERGED, user)
    session.execute(
        delete(DuplicateSuggestion).where(
            DuplicateSuggestion.status == OPEN,
            DuplicateSuggestion.id != suggestion.id,
            or_(
                DuplicateSuggestion.customer_id == other_id,
                DuplicateSuggestion.other_id == other_id,
            ),
        )
    )
    return merged


def _check_open(suggestion: DuplicateSuggestion) -> None:
    if suggestion.status != OPEN:
        raise Conflict("suggestion_decided", "This suggestion was already decided.")


def _decide(suggestion: DuplicateSuggestion, status: str, user: User) -> None:
    suggestion.status = status
    suggestion.decided_by_id = user.id
    suggestion.decided_at = utcnow()


def _lock_workspace(session: Session, workspace_id: int) -> None:
    """One scan at a time per workspace (PostgreSQL; SQLite's writes are one at a time)."""
    session.execute(select(Workspace.id).where(Workspace.id == workspace_id).with_for_update())
