"""Saved segments page: each segment the user may see with its number of customers and a link
to its conversations in the inbox; a form of a few conditions to save a new one (shared with
the workspace by supervisors and admins, private otherwise)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from filrouge.core.actions.custom_fields import workspace_definitions
from filrouge.core.actions.segments import (
    SHARERS,
    create_segment,
    delete_segment,
    segment_definition,
    visible_segments,
)
from filrouge.core.custom_fields import FieldDefinition, FieldType
from filrouge.core.errors import DomainError
from filrouge.core.models import User
from filrouge.core.queries import count_customers
from filrouge.core.segments import segment_clause
from filrouge.db import transaction
from filrouge.i18n import N_
from filrouge.web.deps import FactoryDep
from filrouge.web.schemas import IdPath
from filrouge.web.ui.auth import PageAllowed, Visitor
from filrouge.web.ui.templating import locale_for, render

router = APIRouter(include_in_schema=False)
Viewer = Annotated[Visitor, PageAllowed("segments:list")]
Manager = Annotated[Visitor, PageAllowed("segments:manage")]
ROWS = 5
OPS = ("is", "=", "!=", "in", "not in", ">=", "<=", ">", "<", "set", "not set", "used")
LISTS = ("in", "not in")


@router.get("/segments")
def segments_page(request: Request, factory: FactoryDep, visitor: Viewer) -> Response:
    return _show(request, factory, visitor)


@router.post("/segments")
async def add_segment(request: Request, factory: FactoryDep, visitor: Manager) -> Response:
    form = {k: str(v)[:2000] for k, v in (await request.form()).items() if isinstance(v, str)}
    try:
        with transaction(factory) as session:
            definitions = workspace_definitions(session, visitor.user.workspace_id)
            conditions = [
                condition_from_form(form, row, definitions)
                for row in range(ROWS)
                if form.get(f"field_{row}")
            ]
            definition = {"any" if form.get("match") == "any" else "all": conditions}
            shared = form.get("shared") == "yes"
            create_segment(session, visitor.user, form.get("name", ""), definition, shared)
    except DomainError as refusal:
        error = refusal.message_in(locale_for(request, visitor.user))
        return _show(request, factory, visitor, {"error": error}, refusal.status)
    return RedirectResponse("/segments", status_code=303)


@router.post("/segments/{segment_id}/delete")
def remove_segment(segment_id: IdPath, factory: FactoryDep, visitor: Manager) -> Response:
    with transaction(factory) as session:
        delete_segment(session, visitor.user, segment_id)
    return RedirectResponse("/segments", status_code=303)


def condition_from_form(
    form: dict[str, str], row: int, definitions: dict[str, FieldDefinition]
) -> dict[str, Any]:
    """One row of the form as a condition, its value typed by the field it is about."""
    field, op = form.get(f"field_{row}", ""), form.get(f"op_{row}", "=")
    text = form.get(f"value_{row}", "").strip()
    if op in ("set", "not set"):
        return {"field": field, "op": op}
    if op in LISTS:
        items = [item.strip() for item in text.split(",") if item.strip()]
        return {"field": field, "op": op, "value": [_typed(field, i, definitions) for i in items]}
    return {"field": field, "op": op, "value": _typed(field, text, definitions)}


def _typed(field: str, text: str, definitions: dict[str, FieldDefinition]) -> Any:
    definition = definitions.get(field.removeprefix("attributes."))
    kind = definition.type if definition else FieldType.TEXT
    if field == "reach" or kind == FieldType.NUMBER:
        try:
            number = float(text.replace(",", ".").replace(" ", ""))
        except ValueError:
            return text  # the definition's check says what is wrong
        return int(number) if number.is_integer() else number
    if kind in (FieldType.BOOLEAN, FieldType.CONSENT):
        return text.lower() in ("true", "yes", "oui", "1")
    return text


def _show(
    request: Request,
    factory: FactoryDep,
    visitor: Visitor,
    extra: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    with transaction(factory) as session:
        definitions = workspace_definitions(session, visitor.user.workspace_id)
        context = {
            "segments": _with_counts(session, visitor.user),
            "fields": _fields(definitions),
            "ops": OPS,
            "rows": range(ROWS),
            "may_share": visitor.user.role in SHARERS,
            "user_id": visitor.user.id,
            **(extra or {}),
        }
        return render(request, "segments.html", context, visitor, status=status)


def _with_counts(session: Session, user: User) -> list[tuple[Any, int]]:
    return [
        (s, count_customers(session, user, segment_clause(segment_definition(s))))
        for s in visible_segments(session, user)
    ]


def _fields(definitions: dict[str, FieldDefinition]) -> list[tuple[str, str, bool]]:
    """(name in a definition, label, built-in) for the form's field menu."""
    named = [
        (d.key if d.builtin else f"attributes.{d.key}", d.label, d.builtin)
        for d in definitions.values()
    ]
    reach, channel = N_("Reach (followers)"), N_("Channel used")
    return [*named, ("reach", reach, True), ("channel", channel, True)]
