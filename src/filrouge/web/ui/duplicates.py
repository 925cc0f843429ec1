"""The duplicates review queue: two customers who may be one person, the evidence in words,
and a supervisor's decision: merge, or not the same person."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from filrouge.core.access import access_suggestion_by_id
from filrouge.core.actions.duplicates import (
    OPEN,
    dismiss_suggestion,
    merge_suggestion,
    refresh_suggestions,
    suggestions_by_likelihood,
)
from filrouge.core.duplicate_words import explain
from filrouge.core.models import Customer
from filrouge.db import transaction
from filrouge.web.deps import FactoryDep
from filrouge.web.schemas import IdPath
from filrouge.web.ui.auth import PageAllowed, Visitor
from filrouge.web.ui.templating import locale_for, render

router = APIRouter(include_in_schema=False)
Reviewer = Annotated[Visitor, PageAllowed("duplicates:review")]
SHOWN = 100


@router.get("/duplicates")
def duplicates_page(request: Request, factory: FactoryDep, visitor: Reviewer) -> Response:
    locale = locale_for(request, visitor.user)
    with transaction(factory) as session:
        rows = suggestions_by_likelihood(session, visitor.user.workspace_id, OPEN, SHOWN)
        items = [
            {
                "suggestion": row,
                "pair": [
                    session.get_one(Customer, row.customer_id),
                    session.get_one(Customer, row.other_id),
                ],
                "reasons": [explain(item, locale) for item in row.evidence],
            }
            for row in rows
        ]
        return render(request, "duplicates.html", {"items": items}, visitor)


@router.post("/duplicates/scan")
def scan(factory: FactoryDep, visitor: Reviewer) -> Response:
    with transaction(factory) as session:
        refresh_suggestions(session, visitor.user.workspace_id)
    return RedirectResponse("/duplicates", status_code=303)


@router.post("/duplicates/{suggestion_id}/merge")
def merge(
    suggestion_id: IdPath,
    factory: FactoryDep,
    visitor: Reviewer,
    target_id: Annotated[int | None, Form()] = None,
) -> Response:
    with transaction(factory) as session:
        suggestion = access_suggestion_by_id(session, visitor.user, suggestion_id)
        merge_suggestion(session, suggestion, visitor.user, target_id)
    return RedirectResponse("/duplicates", status_code=303)


@router.post("/duplicates/{suggestion_id}/dismiss")
def dismiss(suggestion_id: IdPath, factory: FactoryDep, visitor: Reviewer) -> Response:
    with transaction(factory) as session:
        suggestion = access_suggestion_by_id(session, visitor.user, suggestion_id)
        dismiss_suggestion(session, suggestion, visitor.user)
    return RedirectResponse("/duplicates", status_code=303)
