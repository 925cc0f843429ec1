"""Typed customer attributes: the built-ins (VIP, language, age, consents) and the workspace's
custom fields (text, number, date, choice), checked and typed on every write path.

Values stay in ``customers.attributes``. ``coerce_attributes`` is pure and cheap, so that an
import calls it once a row: it types what it can and names each field it cannot. A key without
a definition is kept as written (free text, as before definitions existed); a value written
before its field's type changed, or before it was deleted, stays until it is next written.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from filrouge.core.errors import Invalid
from filrouge.core.models import CustomField
from filrouge.i18n import N_


class FieldType(StrEnum):
    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    CHOICE = "choice"
    BOOLEAN = "boolean"  # built-ins only: VIP
    CONSENT = "consent"  # built-ins only: true, false, or unknown (absent)


CUSTOM_TYPES = (FieldType.TEXT, FieldType.NUMBER, FieldType.DATE, FieldType.CHOICE)
AGE_BANDS = ("18-24", "25-34", "35-44", "45-54", "55-64", "65+")
CONSENTS = {"email": "consent_email", "sms": "consent_sms", "whatsapp": "consent_whatsapp"}
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
RESERVED_KEYS = frozenset({"id", "name", "email", "phone", "reach", "channel", "erased_at"})
MAX_TEXT = 1000
TRUE_WORDS = frozenset({"true", "yes", "oui", "1", "vrai", "y", "o"})
FALSE_WORDS = frozenset({"false", "no", "non", "0", "faux", "n"})
UNKNOWN_WORDS = frozenset({"", "unknown", "inconnu", "null", "none"})


@dataclass(frozen=True)
class FieldDefinition:
    key: str
    label: str
    type: FieldType
    options: tuple[str, ...] = ()
    builtin: bool = False


@dataclass(frozen=True)
class FieldProblem:
    """One value that cannot be written: which field, and why (a catalogue message)."""

    field: str
    message_id: str
    params: dict[str, Any] = dataclass_field(default_factory=dict)

    def error(self) -> Invalid:
        return Invalid("invalid_attribute", self.message_id, field=self.field, **self.params)


def builtin_fields(languages: Iterable[str]) -> dict[str, FieldDefinition]:
    """The attributes with a fixed meaning, whatever the workspace defines."""
    fields = [
        FieldDefinition("vip", N_("VIP"), FieldType.BOOLEAN, builtin=True),
        FieldDefinition(
            "language", N_("Language"), FieldType.CHOICE, tuple(languages), builtin=True
        ),
        FieldDefinition("birth_date", N_("Date of birth"), FieldType.DATE, builtin=True),
        FieldDefinition("age_band", N_("Age band"), FieldType.CHOICE, AGE_BANDS, builtin=True),
        FieldDefinition("consent_email", N_("Email consent"), FieldType.CONSENT, builtin=True),
        FieldDefinition("consent_sms", N_("SMS consent"), FieldType.CONSENT, builtin=True),
        FieldDefinition(
            "consent_whatsapp", N_("WhatsApp consent"), FieldType.CONSENT, builtin=True
        ),
    ]
    return {f.key: f for f in fields}


def field_definitions(
    session: Session, workspace_id: int, languages: Iterable[str]
) -> dict[str, FieldDefinition]:
    """Built-ins first, then the workspace's custom fields in panel order."""
    definitions = builtin_fields(languages)
    for row in custom_fields(session, workspace_id):
        definitions[row.key] = FieldDefinition(
            row.key, row.label, FieldType(row.type), tuple(row.options or ())
        )
    return definitions


def custom_fields(session: Session, workspace_id: int) -> list[CustomField]:
    return list(
        session.scalars(
            select(CustomField)
            .where(CustomField.workspace_id == workspace_id)
            .order_by(CustomField.position, CustomField.id)
        )
    )


def coerce_attributes(
    definitions: Mapping[str, FieldDefinition], raw: Mapping[str, Any]
) -> tuple[dict[str, Any], list[FieldProblem]]:
    """Each value typed by its definition (``None`` removes the key); keys without one kept as
    written. Returns the typed values and the problems, one per refused field."""
    values: dict[str, Any] = {}
    problems: list[FieldProblem] = []
    for key, value in raw.items():
        definition = definitions.get(key)
        if definition is None or value is None:
            values[key] = value
            continue
        typed = coerce_value(definition, value)
        if isinstance(typed, FieldProblem):
            problems.append(typed)
        else:
            values[key] = typed
    return values, problems


def check_attributes(
    definitions: Mapping[str, FieldDefinition], raw: Mapping[str, Any]
) -> dict[str, Any]:
    """The typed values, or a 422 ``invalid_attribute`` naming the first field refused."""
    values, problems = coerce_attributes(definitions, raw)
    if problems:
        raise problems[0].error()
    return values


def coerce_value(definition: FieldDefinition, value: Any) -> Any:
    """The value as stored (``None``: unknown, the key goes), or the problem with it."""
    if isinstance(value, str):
        value = value.strip()
    return _COERCERS[definition.type](definition, value)


def _text(definition: FieldDefinition, value: Any) -> Any:
    if isinstance(value, dict | list):
        return _problem(definition, N_("{field} must be text."))
    text = str(value)
    if len(text) > MAX_TEXT:
        return _problem(definition, N_("{field} is longer than {max} characters."), max=MAX_TEXT)
    return text or None


def _number(definition: FieldDefinition, value: Any) -> Any:
    if isinstance(value, bool):
        return _problem(definition, N_("{field} must be a number."))
    if isinstance(value, int | float):
        return value
    if value == "":
        return None
    try:
        number = float(str(value).replace("\u202f", "").replace(" ", "").replace(",", "."))
    except ValueError:
        return _problem(definition, N_("{field} must be a number."))
    if number != number or number in (float("inf"), float("-inf")):
        return _problem(definition, N_("{field} must be a number."))
    return int(number) if number.is_integer() else number


def _date(definition: FieldDefinition, value: Any) -> Any:
    if value == "":
        return None
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError:
        return _problem(definition, N_("{field} must be a date written YYYY-MM-DD."))


def _choice(definition: FieldDefinition, value: Any) -> Any:
    if value == "":
        return None
    text = str(value)
    if text not in definition.options:
        return _problem(
            definition,
            N_("{field} must be one of: {allowed}."),
            allowed=", ".join(definition.options),
        )
    return text


def _boolean(definition: FieldDefinition, value: Any) -> Any:
    if isinstance(value, bool):
        return value
    word = str(value).lower()
    if word in TRUE_WORDS or word in FALSE_WORDS:
        return word in TRUE_WORDS
    return _problem(definition, N_("{field} must be true or false."))


def _consent(definition: FieldDefinition, value: Any) -> Any:
    if isinstance(value, str) and value.lower() in UNKNOWN_WORDS:
        return None
    typed = _boolean(definition, value)
    if isinstance(typed, FieldProblem):
        return _problem(definition, N_("{field} must be true, false or unknown."))
    return typed


def _problem(definition: FieldDefinition, message_id: str, **params: Any) -> FieldProblem:
    return FieldProblem(definition.key, message_id, params)


_COERCERS = {
    FieldType.TEXT: _text,
    FieldType.NUMBER: _number,
    FieldType.DATE: _date,
    FieldType.CHOICE: _choice,
    FieldType.BOOLEAN: _boolean,
    FieldType.CONSENT: _consent,
}


def age_band(birth_date: date, today: date) -> str | None:
    """The band of someone born on ``birth_date``; ``None`` under 18."""
    birthday_to_come = (today.month, today.day) < (birth_date.month, birth_date.day)
    age = today.year - birth_date.year - birthday_to_come
    for band in reversed(AGE_BANDS):
        if age >= int(band.split("-")[0].rstrip("+")):
            return band
    return None


def age_band_of(attributes: Mapping[str, Any], today: date) -> str | None:
    """From the date of birth when it is known, else the band stored as it was told."""
    born = _iso_date(attributes.get("birth_date"))
    if born is not None:
        return age_band(born, today)
    band = attributes.get("age_band")
    return band if isinstance(band, str) else None


def _iso_date(value: Any) -> date | None:
    """``YYYY-MM-DD`` as a date; anything else (a date mistyped long ago) as None."""
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def check_definition(key: str, type_: str, options: Iterable[str], taken: Iterable[str]) -> None:
    """Refuse a field whose key is not a slug or is already used, or a choice without options."""
    if not KEY_PATTERN.match(key):
        raise Invalid(
            "invalid_key",
            N_("The key must be lowercase letters, digits and _, starting with a letter."),
            field="key",
        )
    if key in RESERVED_KEYS or key in builtin_fields(()) or key in set(taken):
        raise Invalid("key_taken", N_("The key {key} is already used."), field="key", key=key)
    check_type(type_, options)


def check_type(type_: str, options: Iterable[str]) -> None:
    if type_ not in CUSTOM_TYPES:
        raise Invalid(
            "invalid_choice",
            N_("{field} must be one of: {allowed}."),
            field="type",
            allowed=", ".join(CUSTOM_TYPES),
        )
    if type_ == FieldType.CHOICE and not [o for o in options if o.strip()]:
        raise Invalid(
            "options_required", N_("A choice field needs at least one option."), field="options"
        )
