"""Segments: a named filter over customers, a validated JSON definition compiled to ONE SQL
condition on ``customers`` (never Python over all rows), on SQLite and PostgreSQL alike.

``{"all": [{"field": "vip", "op": "is", "value": true},
           {"field": "age_band", "op": "in", "value": ["25-34", "35-44"]},
           {"field": "reach", "op": ">=", "value": 10000},
           {"field": "attributes.loyalty_tier", "op": "=", "value": "gold"},
           {"field": "channel", "op": "used", "value": "whatsapp"}]}``

``all`` must all hold, ``any`` needs one (both may be given). A value that does not have the
type the condition asks for (text written before a field became a number) never matches and
never breaks the query: each JSON value's type is checked before it is cast.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import (
    Boolean,
    ColumnElement,
    Float,
    and_,
    case,
    exists,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from filrouge.core.custom_fields import AGE_BANDS, CONSENTS, KEY_PATTERN
from filrouge.core.errors import Invalid
from filrouge.core.models import ChannelAccount, Conversation, Customer, Identity, Message
from filrouge.core.models.enums import ChannelKind
from filrouge.i18n import N_

Op = Literal["is", "=", "!=", "in", "not in", ">", ">=", "<", "<=", "set", "not set", "used"]
Scalar = str | int | float | bool
BOOLEAN_FIELDS = frozenset({"vip"})
CONSENT_FIELDS = frozenset(CONSENTS.values())
TEXT_FIELDS = frozenset({"language", "age_band", "birth_date"})
COMPARISONS = frozenset({">", ">=", "<", "<="})
MAX_CONDITIONS = 50


class Condition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    field: str = Field(min_length=1, max_length=80)
    op: Op
    value: Scalar | list[Scalar] | None = None

    @model_validator(mode="after")
    def _fits(self) -> Condition:
        _check_condition(self)
        return self


class SegmentDefinition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    all: list[Condition] = Field(default_factory=list, max_length=MAX_CONDITIONS)
    any: list[Condition] = Field(default_factory=list, max_length=MAX_CONDITIONS)

    @model_validator(mode="after")
    def _not_empty(self) -> SegmentDefinition:
        if not self.all and not self.any:
            raise ValueError("a segment needs at least one condition")
        return self


def parse_definition(raw: Any) -> SegmentDefinition:
    """The definition checked, or a 422 ``invalid_segment`` saying what is wrong."""
    try:
        return SegmentDefinition.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "definition"
        raise Invalid(
            "invalid_segment",
            N_("The segment cannot be used: {reason} ({where})."),
            field="definition",
            reason=str(first["msg"]).removeprefix("Value error, "),
            where=where,
        ) from exc


def segment_clause(definition: SegmentDefinition, today: date | None = None) -> ColumnElement[bool]:
    """The customers the segment holds, as a WHERE condition on ``customers`` (reports reuse
    it). ``today`` fixes the age bands computed from dates of birth."""
    day = today or date.today()
    parts: list[ColumnElement[bool]] = [condition_clause(c, day) for c in definition.all]
    if definition.any:
        parts.append(or_(*[condition_clause(c, day) for c in definition.any]))
    return and_(true(), *parts)


def condition_clause(condition: Condition, today: date) -> ColumnElement[bool]:
    name, op, value = condition.field, condition.op, condition.value
    if name == "reach":
        return _compare(op, reach_expression(), value)
    if name == "channel":
        return _channel_used(str(value))
    if name == "age_band":
        return _age_band(op, value, today)
    key = name.removeprefix("attributes.")
    if op in ("set", "not set"):
        missing = func.coalesce(JsonKind(Customer.attributes, key, "null"), true())  # or null
        return not_(missing) if op == "set" else missing
    if isinstance(value, bool) or name in BOOLEAN_FIELDS | CONSENT_FIELDS:
        return _boolean(key, op, value)
    if isinstance(value, int | float) or (
        isinstance(value, list) and value and isinstance(value[0], int | float)
    ):
        return _compare(op, _typed(key, "number", Float()), value)
    return _compare(op, _typed(key, "string", None), value)


def reach_expression() -> ColumnElement[Any]:
    """A customer's reach: the most followers any of their identities has."""
    followers = _typed_in(Identity.attributes, "followers", "number", Float())
    return (
        select(func.max(followers))
        .where(Identity.customer_id == Customer.id)
        .correlate(Customer)
        .scalar_subquery()
    )


def customer_reach(customer: Customer) -> int | None:
    """The same reach, from identities already loaded (the API's ``reach``, the panel)."""
    counts = [followers_of(i) for i in customer.identities]
    return max((c for c in counts if c is not None), default=None)


def followers_of(identity: Identity) -> int | None:
    followers = (identity.attributes or {}).get("followers")
    if isinstance(followers, bool) or not isinstance(followers, int | float):
        return None
    return int(followers)


# -- JSON values, typed safely on both databases ----------------------------------------------


class JsonKind(FunctionElement[bool]):
    """True when ``column[key]`` holds a JSON value of ``kind`` (string, number, boolean or
    null); NULL when the key is absent."""

    type = Boolean()
    inherit_cache = True
    name = "json_kind"

    def __init__(self, column: Any, key: str, kind: str) -> None:
        self.kind = kind
        super().__init__(column, literal(key))


SQLITE_KINDS = {
    "string": "('text')",
    "number": "('integer', 'real')",
    "boolean": "('true', 'false')",
    "null": "('null')",
}
POSTGRES_KINDS = {"string": "string", "number": "number", "boolean": "boolean", "null": "null"}


@compiles(JsonKind, "sqlite")
def _json_kind_sqlite(element: JsonKind, compiler: SQLCompiler, **kw: Any) -> str:
    column, key = list(element.clauses)
    path = f"'$.' || {compiler.process(key, **kw)}"
    return f"(json_type({compiler.process(column, **kw)}, {path}) IN {SQLITE_KINDS[element.kind]})"


@compiles(JsonKind, "postgresql")
def _json_kind_postgres(element: JsonKind, compiler: SQLCompiler, **kw: Any) -> str:
    column, key = list(element.clauses)
    kind = POSTGRES_KINDS[element.kind]
    value = f"({compiler.process(column, **kw)} -> {compiler.process(key, **kw)})"
    return f"(jsonb_typeof({value}) = '{kind}')"


def _typed(key: str, kind: str, as_type: Any) -> ColumnElement[Any]:
    return _typed_in(Customer.attributes, key, kind, as_type)


def _typed_in(column: Any, key: str, kind: str, as_type: Any) -> ColumnElement[Any]:
    """``column[key]`` as SQL text or number when it holds that kind of value, else NULL: the
    CASE keeps PostgreSQL from casting a value of another kind."""
    value = column[key].as_float() if kind == "number" else column[key].as_string()
    return case((JsonKind(column, key, kind), value), else_=None)


def _boolean(key: str, op: str, value: Any) -> ColumnElement[bool]:
    """``is true`` holds only where the value is JSON true; ``is false`` also where it is
    absent or null (not VIP, consent unknown counts as no unless asked with ``set``)."""
    boolean = JsonKind(Customer.attributes, key, "boolean")
    is_true = func.coalesce(case((boolean, Customer.attributes[key].as_boolean())), false())
    wanted = bool(value) if op != "!=" else not bool(value)
    return is_true if wanted else not_(is_true)


def _compare(op: str, column: ColumnElement[Any], value: Any) -> ColumnElement[bool]:
    compared: dict[str, Any] = {
        "=": lambda: column == value,
        "is": lambda: column == value,
        "!=": lambda: or_(column != value, column.is_(None)),
        "in": lambda: column.in_(list(value)),
        "not in": lambda: or_(column.not_in(list(value)), column.is_(None)),
        ">": lambda: column > value,
        ">=": lambda: column >= value,
        "<": lambda: column < value,
        "<=": lambda: column <= value,
        "set": lambda: column.is_not(None),
        "not set": lambda: column.is_(None),
    }
    clause: ColumnElement[bool] = compared[op]()
    return clause


def _channel_used(kind: str) -> ColumnElement[bool]:
    """The customer wrote or was written to on a channel of this kind."""
    return exists(
        select(Message.id)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .join(ChannelAccount, ChannelAccount.id == Message.channel_id)
        .where(Conversation.customer_id == Customer.id, ChannelAccount.kind == kind)
        .correlate(Customer)
    )


def _age_band(op: str, value: Any, today: date) -> ColumnElement[bool]:
    """From the date of birth when there is one (ISO text compares as dates do), else from the
    band stored as it was told."""
    if op in ("set", "not set"):
        born, told = _typed("birth_date", "string", None), _typed("age_band", "string", None)
        known = or_(born.is_not(None), told.is_not(None))
        return known if op == "set" else not_(known)
    bands = [value] if isinstance(value, str) else list(value or [])
    matches = or_(false(), *[_in_band(band, today) for band in bands])
    return matches if op in ("=", "is", "in") else not_(matches)


def _in_band(band: str, today: date) -> ColumnElement[bool]:
    born = _typed("birth_date", "string", None)
    low, _, high = band.rstrip("+").partition("-")
    youngest = _years_before(today, int(low)).isoformat()  # born on or before this day
    by_birth = born <= youngest
    if high:
        oldest = _years_before(today, int(high) + 1).isoformat()  # born after this day
        by_birth = and_(by_birth, born > oldest)
    told = and_(born.is_(None), _typed("age_band", "string", None) == band)
    return or_(by_birth, told)


def _years_before(today: date, years: int) -> date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


# -- what a condition may say ------------------------------------------------------------------


def _check_condition(condition: Condition) -> None:
    name, op, value = condition.field, condition.op, condition.value
    if name == "reach":
        _need(op in COMPARISONS | {"=", "!="} and _is_number(value), "reach compares a number")
    elif name == "channel":
        _need(op == "used" and value in ChannelKind._value2member_map_, "channel: used <kind>")
    elif name in BOOLEAN_FIELDS | CONSENT_FIELDS:
        _need(
            (op in ("is", "=", "!=") and isinstance(value, bool)) or op in ("set", "not set"),
            f"{name} is true or false",
        )
    elif name == "age_band":
        bands = [value] if isinstance(value, str) else value
        _need(
            op in ("set", "not set")
            or (isinstance(bands, list) and bool(bands) and all(b in AGE_BANDS for b in bands)),
            "age_band is one of " + ", ".join(AGE_BANDS),
        )
    elif name in TEXT_FIELDS or name.startswith("attributes."):
        key = name.removeprefix("attributes.")
        _need(bool(KEY_PATTERN.match(key)), f"unknown field {name}")
        _need(op != "used", f"{name} cannot be used")
        _check_value(op, value)
    else:
        _need(False, f"unknown field {name}")


def _check_value(op: str, value: Any) -> None:
    if op in ("set", "not set"):
        return
    if op in ("in", "not in"):
        _need(isinstance(value, list) and bool(value), f"{op} takes a list")
        return
    _need(value is not None and not isinstance(value, list), f"{op} takes one value")
    if op in COMPARISONS:
        _need(not isinstance(value, bool), f"{op} compares a number or a date")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _need(ok: bool, reason: str) -> None:
    if not ok:
        raise ValueError(reason)
