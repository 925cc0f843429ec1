"""``/api/v1/custom-fields``: the workspace's typed customer attributes (admins define them)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Response

from filrouge.core.actions.custom_fields import (
    FieldChanges,
    create_field,
    delete_field,
    update_field,
    workspace_languages,
)
from filrouge.core.audit import Actor
from filrouge.core.custom_fields import FieldDefinition, builtin_fields, custom_fields
from filrouge.core.models import CustomField, User
from filrouge.db import transaction
from filrouge.web.deps import Allowed, FactoryDep
from filrouge.web.schemas import CustomFieldCreate, CustomFieldPublic, CustomFieldUpdate, IdPath

router = APIRouter(prefix="/custom-fields", tags=["customers"])
Manager = Annotated[User, Allowed("custom_fields:manage")]


@router.get("", response_model=list[CustomFieldPublic])
def get_custom_fields(
    factory: FactoryDep, user: Annotated[User, Allowed("custom_fields:list")]
) -> list[CustomFieldPublic]:
    """The built-in attributes first (no id), then the workspace's fields in panel order."""
    with transaction(factory) as session:
        languages = workspace_languages(session, user.workspace_id)
        builtins = [builtin_public(d) for d in builtin_fields(languages).values()]
        return builtins + [field_public(f) for f in custom_fields(session, user.workspace_id)]


@router.post("", status_code=201, response_model=CustomFieldPublic)
def post_custom_field(
    body: CustomFieldCreate, factory: FactoryDep, user: Manager
) -> CustomFieldPublic:
    with transaction(factory) as session:
        field = create_field(
            session,
            user.workspace_id,
            body.key,
            body.label,
            body.type,
            body.options,
            Actor.user(user.id),
        )
        return field_public(field)


@router.patch("/{field_id}", response_model=CustomFieldPublic)
def patch_custom_field(
    field_id: IdPath, body: CustomFieldUpdate, factory: FactoryDep, user: Manager
) -> CustomFieldPublic:
    """Values already written stay as they are, whatever the new type."""
    changes = FieldChanges(body.label, body.type, body.options, body.position)
    with transaction(factory) as session:
        field = update_field(session, user.workspace_id, field_id, changes, Actor.user(user.id))
        return field_public(field)


@router.delete("/{field_id}", status_code=204)
def delete_custom_field(field_id: IdPath, factory: FactoryDep, user: Manager) -> Response:
    """The definition goes; customers keep their values, as free text."""
    with transaction(factory) as session:
        delete_field(session, user.workspace_id, field_id, Actor.user(user.id))
    return Response(status_code=204)


def field_public(field: CustomField) -> CustomFieldPublic:
    return CustomFieldPublic(
        id=field.id,
        key=field.key,
        label=field.label,
        type=field.type,
        options=list(field.options or []),
        position=field.position,
        builtin=False,
    )


def builtin_public(definition: FieldDefinition) -> CustomFieldPublic:
    return CustomFieldPublic(
        id=None,
        key=definition.key,
        label=definition.label,
        type=str(definition.type),
        options=list(definition.options),
        position=0,
        builtin=True,
    )
