"""``/duplicates``: the review queue of customers who may be one person (supervisors)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from sqlalchemy.orm import Session

from filrouge.core.access import access_suggestion_by_id
from filrouge.core.actions.duplicates import (
    dismiss_suggestion,
    merge_suggestion,
    refresh_suggestions,
    suggestions_by_likelihood,
)
from filrouge.core.duplicate_words import explain
from filrouge.core.models import Customer, DuplicateSuggestion, User
from filrouge.db import transaction
from filrouge.i18n import negotiate_locale
from filrouge.web.api.present import customer_public
from filrouge.web.deps import Allowed, FactoryDep
from filrouge.web.schemas import (
    CustomerPublic,
    DuplicatePublic,
    IdPath,
    ScanPublic,
    SuggestionMerge,
)

router = APIRouter(prefix="/duplicates", tags=["customers"])
Reviewer = Annotated[User, Allowed("duplicates:review")]


@router.get("", response_model=list[DuplicatePublic])
def get_duplicates(
    request: Request,
    factory: FactoryDep,
    user: Reviewer,
    status: Literal["open", "merged", "dismissed"] = "open",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[DuplicatePublic]:
    """The likeliest first."""
    with transaction(factory) as session:
        rows = suggestions_by_likelihood(session, user.workspace_id, status, limit)
        locale = negotiate_locale(request.headers.get("accept-language"))
        return [duplicate_public(session, row, locale) for row in rows]


@router.post(":scan", response_model=ScanPublic)
def post_scan(factory: FactoryDep, user: Reviewer) -> ScanPublic:
    """Look for duplicates now (a scan also runs every ten minutes)."""
    with transaction(factory) as session:
        report = refresh_suggestions(session, user.workspace_id)
        return ScanPublic(new=report.new, updated=report.updated, withdrawn=report.withdrawn)


@router.post("/{suggestion_id}/merge", response_model=CustomerPublic)
def post_merge(
    suggestion_id: IdPath, body: SuggestionMerge, factory: FactoryDep, user: Reviewer
) -> CustomerPublic:
    with transaction(factory) as session:
        suggestion = access_suggestion_by_id(session, user, suggestion_id)
        merged = merge_suggestion(session, suggestion, user, body.target_id)
        session.flush()
        session.refresh(merged, ["identities"])
        return customer_public(merged)


@router.post("/{suggestion_id}/dismiss", status_code=204)
def post_dismiss(suggestion_id: IdPath, factory: FactoryDep, user: Reviewer) -> None:
    """Not the same person: never suggested again."""
    with transaction(factory) as session:
        dismiss_suggestion(session, access_suggestion_by_id(session, user, suggestion_id), user)


def duplicate_public(
    session: Session, suggestion: DuplicateSuggestion, locale: str
) -> DuplicatePublic:
    customer = session.get_one(Customer, suggestion.customer_id)
    other = session.get_one(Customer, suggestion.other_id)
    return DuplicatePublic(
        id=suggestion.id,
        score=suggestion.score,
        status=suggestion.status,
        customer=customer_public(customer),
        other=customer_public(other),
        evidence=suggestion.evidence,
        explanation=[explain(item, locale) for item in suggestion.evidence],
        decided_by_id=suggestion.decided_by_id,
        decided_at=suggestion.decided_at,
    )
