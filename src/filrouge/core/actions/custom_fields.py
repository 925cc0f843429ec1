"""Custom field definitions: created, changed and deleted by admins; the customers' values
are never touched here (a type change or a deletion keeps every value already written)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from filrouge.core.audit import Actor, record_event
from filrouge.core.custom_fields import (
    CONSENTS,
    FieldDefinition,
    check_attributes,
    check_definition,
    check_type,
    custom_fields,
    field_definitions,
)
from filrouge.core.errors import Invalid, NotFound
from filrouge.core.models import Customer, CustomField, Event, Workspace
from filrouge.i18n import N_
from filrouge.settings import get_settings

_CACHE_KEY = "filrouge_field_definitions"


@dataclass(frozen=True)
class FieldChanges:
    label: str | None = None
    type: str | None = None
    options: list[str] | None = None
    position: int | None = None


def workspace_languages(session: Session, workspace_id: int) -> list[str]:
    """The workspace's languages (its settings), else the installation's."""
    workspace = session.get(Workspace, workspace_id)
    languages = (workspace.settings or {}).get("languages") if workspace else None
    if isinstance(languages, list) and languages:
        return [str(language) for language in languages]
    return list(get_settings().languages)


def workspace_definitions(session: Session, workspace_id: int) -> dict[str, FieldDefinition]:
    """Read once per transaction (an import checks every row against them)."""
    cache = session.info.setdefault(_CACHE_KEY, {})
    if workspace_id not in cache:
        languages = workspace_languages(session, workspace_id)
        cache[workspace_id] = field_definitions(session, workspace_id, languages)
    definitions: dict[str, FieldDefinition] = cache[workspace_id]
    return definitions


def _forget_definitions(session: Session) -> None:
    session.info.pop(_CACHE_KEY, None)


def typed_attributes(session: Session, workspace_id: int, raw: Mapping[str, Any]) -> dict[str, Any]:
    """``raw`` checked against the workspace's definitions: typed, or a 422 naming the field."""
    if not raw:
        return dict(raw)
    return check_attributes(workspace_definitions(session, workspace_id), raw)


def record_consent_changes(
    session: Session,
    customer: Customer,
    before: Mapping[str, Any],
    actor: Actor,
    source: str,
) -> None:
    """One ``customer.consent_changed`` event per flag changed: what, when, by whom, from where."""
    after = customer.attributes or {}
    for key in CONSENTS.values():
        if before.get(key) != after.get(key):
            record_event(
                session,
                customer.workspace_id,
                actor,
                ("customer", customer.id),
                "customer.consent_changed",
                before={key: before.get(key)},
                after={key: after.get(key), "source": source},
            )


def last_consent_changes(session: Session, customer: Customer) -> dict[str, Event]:
    """The latest ``customer.consent_changed`` event of each flag: when, and from where."""
    events = session.scalars(
        select(Event)
        .where(
            Event.subject_type == "customer",
            Event.subject_id == customer.id,
            Event.action == "customer.consent_changed",
        )
        .order_by(Event.id.desc())
        .limit(100)
    )
    latest: dict[str, Event] = {}
    for event in events:
        for key in (event.after or {}).keys() & set(CONSENTS.values()):
            latest.setdefault(key, event)
    return latest


def create_field(
    session: Session,
    workspace_id: int,
    key: str,
    label: str,
    type_: str,
    options: list[str],
    actor: Actor,
) -> CustomField:
    existing = custom_fields(session, workspace_id)
    check_definition(key, type_, options, [f.key for f in existing])
    field = CustomField(
        workspace_id=workspace_id,
        key=key,
        label=_label(label, key),
        type=type_,
        options=_options(options),
        position=max((f.position for f in existing), default=0) + 1,
    )
    session.add(field)
    session.flush()
    _forget_definitions(session)
    _record(session, field, actor, "custom_field.created", None)
    return field


def update_field(
    session: Session, workspace_id: int, field_id: int, changes: FieldChanges, actor: Actor
) -> CustomField:
    """A new label, type, options or place; values already written stay as they are."""
    field = field_of_workspace(session, workspace_id, field_id)
    before = _snapshot(field)
    type_ = changes.type if changes.type is not None else field.type
    options = changes.options if changes.options is not None else list(field.options or [])
    check_type(type_, options)
    field.type, field.options = type_, _options(options)
    _forget_definitions(session)
    if changes.label is not None:
        field.label = _label(changes.label, field.key)
    if changes.position is not None:
        field.position = changes.position
    if _snapshot(field) != before:
        _record(session, field, actor, "custom_field.updated", before)
    return field


def delete_field(session: Session, workspace_id: int, field_id: int, actor: Actor) -> None:
    """The definition goes; customers keep their values, as free text."""
    field = field_of_workspace(session, workspace_id, field_id)
    _record(session, field, actor, "custom_field.deleted", _snapshot(field))
    session.delete(field)
    _forget_definitions(session)


def field_of_workspace(session: Session, workspace_id: int, field_id: int) -> CustomField:
    field = session.get(CustomField, field_id)
    if field is None or field.workspace_id != workspace_id:
        raise NotFound("custom_field_not_found", N_("There is no custom field {id}."), id=field_id)
    return field


def _label(label: str, key: str) -> str:
    text = label.strip()[:200]
    if not text and not key:
        raise Invalid("empty_text", "The text is empty.", field="label")
    return text or key


def _options(options: list[str]) -> list[str]:
    return list(dict.fromkeys(o.strip()[:200] for o in options if o.strip()))[:200]


def _snapshot(field: CustomField) -> dict[str, Any]:
    return {
        "key": field.key,
        "label": field.label,
        "type": field.type,
        "options": list(field.options or []),
        "position": field.position,
    }


def _record(
    session: Session,
    field: CustomField,
    actor: Actor,
    action: str,
    before: dict[str, Any] | None,
) -> None:
    after = None if action.endswith("deleted") else _snapshot(field)
    record_event(
        session, field.workspace_id, actor, ("custom_field", field.id), action, before, after
    )
