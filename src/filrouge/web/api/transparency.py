"""``/transparency``: publish the public transparency page or stop publishing it (admins)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel

from filrouge.core.actions.transparency import set_transparency
from filrouge.core.audit import Actor
from filrouge.core.models import User, Workspace
from filrouge.core.transparency import TransparencySettings, transparency_of
from filrouge.db import transaction
from filrouge.web.deps import Allowed, FactoryDep

router = APIRouter(prefix="/transparency", tags=["transparency"])
Admin = Annotated[User, Allowed("transparency:manage")]


class TransparencyUpdate(BaseModel):
    enabled: bool


class TransparencyPublic(BaseModel):
    enabled: bool
    page_path: str | None  # the public page (add ?embed=1 for a frame, ?lang=en|fr)
    json_path: str | None


@router.get("", response_model=TransparencyPublic)
def get_transparency(factory: FactoryDep, user: Admin) -> TransparencyPublic:
    with transaction(factory) as session:
        return _public(transparency_of(session.get_one(Workspace, user.workspace_id).settings))


@router.put("", response_model=TransparencyPublic)
def put_transparency(
    body: TransparencyUpdate, factory: FactoryDep, user: Admin
) -> TransparencyPublic:
    """Turn the page on (its address is made the first time and kept) or off (404 then)."""
    with transaction(factory) as session:
        workspace = session.get_one(Workspace, user.workspace_id)
        return _public(set_transparency(session, workspace, body.enabled, Actor.user(user.id)))


def _public(settings: TransparencySettings) -> TransparencyPublic:
    token = settings.token
    return TransparencyPublic(
        enabled=settings.enabled,
        page_path=f"/transparency/{token}" if token else None,
        json_path=f"/api/v1/public/transparency/{token}" if token else None,
    )
