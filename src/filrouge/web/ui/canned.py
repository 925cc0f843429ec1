"""Canned responses: supervisors write them; every agent inserts them from the composer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from filrouge.core.actions.canned import create_canned, delete_canned, list_canned
from filrouge.core.audit import Actor
from filrouge.db import transaction
from filrouge.web.deps import FactoryDep
from filrouge.web.schemas import IdPath
from filrouge.web.ui.auth import PageAllowed, Visitor
from filrouge.web.ui.templating import render

router = APIRouter(include_in_schema=False)
Manager = Annotated[Visitor, PageAllowed("canned:manage")]


@router.get("/canned")
def canned_page(request: Request, factory: FactoryDep, visitor: Manager) -> Response:
    with transaction(factory) as session:
        items = list_canned(session, visitor.user.workspace_id)
        return render(request, "canned.html", {"items": items}, visitor)


@router.post("/canned")
def add_canned(
    factory: FactoryDep,
    visitor: Manager,
    title: Annotated[str, Form(min_length=1, max_length=200)],
    body: Annotated[str, Form(min_length=1, max_length=16 * 1024)],
) -> Response:
    with transaction(factory) as session:
        create_canned(session, visitor.user.workspace_id, title, body, Actor.user(visitor.user.id))
    return RedirectResponse("/canned", status_code=303)


@router.post("/canned/{canned_id}/delete")
def remove_canned(canned_id: IdPath, factory: FactoryDep, visitor: Manager) -> Response:
    with transaction(factory) as session:
        delete_canned(session, visitor.user.workspace_id, canned_id, Actor.user(visitor.user.id))
    return RedirectResponse("/canned", status_code=303)
