"""What a rule looks at: a registry of condition fields, each evaluated against a small context
built once per conversation.

A field is one entry of ``FIELDS``: the operators it accepts, how its value is checked when a
rule is saved, and what it sees in a conversation. A field that other parts of Filrouge will
provide (``type``, ``sentiment``, ``language``: triage; ``segment``: saved segments) is
registered by them with ``register_field``; until then a rule naming it is refused when it is
saved, with a message that says so.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from filrouge.core.errors import Invalid
from filrouge.core.models import ChannelAccount, Conversation, Customer, Message
from filrouge.core.models.enums import (
    AUTOMATIC_FLAGS,
    ChannelKind,
    ConversationStatus,
    Priority,
    Visibility,
)
from filrouge.i18n import N_

MATCH_MODES = ("all", "any")
# Provided later by other parts (triage, segments): refused with a message of their own.
PLANNED_FIELDS = frozenset({"type", "sentiment", "language", "segment"})


@dataclass
class Context:
    """What the conditions of every rule see for one conversation, read once."""

    conversation: Conversation
    customer: Customer
    channel: ChannelAccount
    message: Message | None  # the message that triggered, else the customer's latest
    extra: dict[str, Any] = field(default_factory=dict)  # for fields registered later

    @property
    def tags(self) -> list[str]:
        return self.conversation.tags


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: Any = None
    key: str | None = None  # customer_attribute: the attribute's name

    def as_dict(self) -> dict[str, Any]:
        data = {"field": self.field, "op": self.op, "value": self.value}
        return data if self.key is None else {**data, "key": self.key}


@dataclass(frozen=True)
class Conditions:
    match: str = "all"
    items: tuple[Condition, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"match": self.match, "items": [item.as_dict() for item in self.items]}


@dataclass(frozen=True)
class Verdict:
    """One condition on one conversation: did it hold, and what was seen."""

    condition: Condition
    matched: bool
    seen: Any

    def as_dict(self) -> dict[str, Any]:
        return {**self.condition.as_dict(), "matched": self.matched, "seen": self.seen}


@dataclass(frozen=True)
class ConditionField:
    """``read`` gives what the conversation shows; ``compare`` says whether the op holds."""

    ops: tuple[str, ...]
    read: Callable[[Context, Condition], Any]
    check_value: Callable[[str, Any], Any]  # (op, raw value) → clean value; ValueError
    compare: Callable[[str, Any, Any], bool]  # (op, seen, value)


FIELDS: dict[str, ConditionField] = {}


def register_field(name: str, condition_field: ConditionField) -> None:
    """Make ``name`` usable in rules (triage, segments… register theirs here)."""
    FIELDS[name] = condition_field


# --- values -----------------------------------------------------------------------------


def _choices(allowed: Sequence[str]) -> Callable[[str, Any], Any]:
    def check(op: str, value: Any) -> Any:
        values = value if isinstance(value, list) else [value]
        if not values or any(str(v) not in allowed for v in values):
            raise ValueError(f"one of: {', '.join(allowed)}")
        return [str(v) for v in values] if op == "in" else str(values[0])

    return check


def _compare_choice(op: str, seen: Any, value: Any) -> bool:
    if op == "in":
        return seen in value
    return (seen == value) if op == "eq" else (seen != value)


def _no_value(op: str, value: Any) -> Any:
    return None


def _text(op: str, value: Any) -> Any:
    if not isinstance(value, str | int | float | bool) or not str(value).strip():
        raise ValueError("a text")
    return str(value).strip()


def _id(op: str, value: Any) -> Any:
    if op in ("set", "unset"):
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError("an id")
    return value


def _flag(op: str, value: Any) -> Any:
    if not isinstance(value, bool):
        raise ValueError("true or false")
    return value


# --- channel ----------------------------------------------------------------------------


def _check_channel(op: str, value: Any) -> Any:
    values = value if isinstance(value, list) else [value]
    kinds = [k.value for k in ChannelKind]
    for item in values:
        if isinstance(item, bool) or not (
            (isinstance(item, int) and item > 0) or (isinstance(item, str) and item in kinds)
        ):
            raise ValueError(f"a channel id or one of: {', '.join(kinds)}")
    return values if op == "in" else values[0]


def _compare_channel(op: str, seen: Any, value: Any) -> bool:
    channel_id, kind = seen
    wanted = value if isinstance(value, list) else [value]
    hit = any(item in (channel_id, kind) for item in wanted)
    return not hit if op == "ne" else hit


def _read_channel(ctx: Context, condition: Condition) -> Any:
    return (ctx.channel.id, ctx.channel.kind)


# --- keywords ---------------------------------------------------------------------------

_WORD = re.compile(r"\w+")


def plain_words(text: str) -> list[str]:
    """Words without accents or case: « Remboursé ! » → ["rembourse"]."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _WORD.findall(stripped)


def _check_keywords(op: str, value: Any) -> Any:
    raw = value.split(",") if isinstance(value, str) else value
    if not isinstance(raw, list):
        raise ValueError("a list of words")
    phrases = [" ".join(plain_words(str(item))) for item in raw]
    phrases = [phrase for phrase in phrases if phrase]
    if not phrases:
        raise ValueError("a list of words")
    return phrases


def _read_keywords(ctx: Context, condition: Condition) -> Any:
    text = "" if ctx.message is None else ctx.message.text or ""
    padded = f" {' '.join(plain_words(text))} "
    return [phrase for phrase in condition.value if f" {phrase} " in padded]


def _compare_keywords(op: str, seen: Any, value: Any) -> bool:
    if op == "all":
        return len(seen) == len(value)
    return bool(seen) if op == "any" else not seen


# --- the rest ---------------------------------------------------------------------------


def _read_attribute(ctx: Context, condition: Condition) -> Any:
    value = (ctx.customer.attributes or {}).get(condition.key or "")
    return None if value is None else str(value)


def _compare_text(op: str, seen: Any, value: Any) -> bool:
    if op == "set":
        return seen not in (None, "")
    if op == "unset":
        return seen in (None, "")
    if seen is None:
        return op == "ne"
    left, right = " ".join(plain_words(str(seen))), " ".join(plain_words(str(value)))
    if op == "contains":
        return right in left
    return (left == right) if op == "eq" else (left != right)


def _check_attribute_value(op: str, value: Any) -> Any:
    return None if op in ("set", "unset") else _text(op, value)


def _compare_reference(op: str, seen: Any, value: Any) -> bool:
    if op == "set":
        return seen is not None
    if op == "unset":
        return seen is None
    return (seen == value) if op == "eq" else (seen != value)


def _check_tag(op: str, value: Any) -> Any:
    return " ".join(_text(op, value).split()).lower()


def _compare_tag(op: str, seen: Any, value: Any) -> bool:
    return (value in seen) if op == "has" else (value not in seen)


def _read_automatic(ctx: Context, condition: Condition) -> Any:
    return ctx.message is not None and ctx.message.flag in AUTOMATIC_FLAGS


def _read_visibility(ctx: Context, condition: Condition) -> Any:
    return ctx.conversation.visibility if ctx.message is None else ctx.message.visibility


CHOICE_OPS = ("eq", "ne", "in")
register_field(
    "channel", ConditionField(CHOICE_OPS, _read_channel, _check_channel, _compare_channel)
)
register_field(
    "priority",
    ConditionField(
        CHOICE_OPS,
        lambda ctx, _: ctx.conversation.priority,
        _choices([p.value for p in Priority]),
        _compare_choice,
    ),
)
register_field(
    "status",
    ConditionField(
        CHOICE_OPS,
        lambda ctx, _: ctx.conversation.status,
        _choices([s.value for s in ConversationStatus]),
        _compare_choice,
    ),
)
register_field(
    "visibility",
    ConditionField(
        ("eq", "ne"), _read_visibility, _choices([v.value for v in Visibility]), _compare_choice
    ),
)
register_field(
    "keywords",
    ConditionField(("any", "all", "none"), _read_keywords, _check_keywords, _compare_keywords),
)
register_field(
    "customer_attribute",
    ConditionField(
        ("eq", "ne", "contains", "set", "unset"),
        _read_attribute,
        _check_attribute_value,
        _compare_text,
    ),
)
register_field(
    "tag", ConditionField(("has", "has_not"), lambda c, _: c.tags, _check_tag, _compare_tag)
)
register_field(
    "assignee",
    ConditionField(
        ("set", "unset", "eq", "ne"),
        lambda ctx, _: ctx.conversation.assignee_id,
        _id,
        _compare_reference,
    ),
)
register_field(
    "team",
    ConditionField(
        ("set", "unset", "eq", "ne"),
        lambda ctx, _: ctx.conversation.team_id,
        _id,
        _compare_reference,
    ),
)
register_field(
    "automatic_sender",
    ConditionField(("is",), _read_automatic, _flag, lambda op, seen, value: seen == value),
)


# --- checking a rule's conditions when it is saved --------------------------------------


def check_conditions(raw: Any) -> Conditions:
    """Conditions as saved: ``{"match": "all"|"any", "items": [{field, op, value, key?}]}``;
    anything else is refused, naming the item at fault."""
    if raw is None:
        return Conditions()
    if not isinstance(raw, dict):
        raise Invalid("invalid_conditions", N_("Conditions must be an object."), field="conditions")
    match = raw.get("match", "all")
    if match not in MATCH_MODES:
        raise Invalid(
            "invalid_choice",
            "{field} must be one of: {allowed}.",
            field="conditions.match",
            allowed=", ".join(MATCH_MODES),
        )
    items = raw.get("items") or []
    if not isinstance(items, list) or len(items) > 50:
        raise Invalid(
            "invalid_conditions",
            N_("Conditions must be a list of at most 50 items."),
            field="conditions.items",
        )
    return Conditions(match, tuple(_check_item(index, item) for index, item in enumerate(items)))


def _check_item(index: int, item: Any) -> Condition:
    where = f"conditions.items.{index}"
    if not isinstance(item, dict):
        raise Invalid("invalid_conditions", N_("Each condition must be an object."), field=where)
    name = str(item.get("field") or "")
    condition_field = FIELDS.get(name)
    if condition_field is None:
        _refuse_field(name, f"{where}.field")
    assert condition_field is not None
    op = str(item.get("op") or "")
    if op not in condition_field.ops:
        raise Invalid(
            "invalid_choice",
            "{field} must be one of: {allowed}.",
            field=f"{where}.op",
            allowed=", ".join(condition_field.ops),
        )
    key = _attribute_key(name, item.get("key"), where)
    try:
        value = condition_field.check_value(op, item.get("value"))
    except ValueError as exc:
        raise Invalid(
            "invalid_condition_value",
            N_("{field} must be {expected}."),
            field=f"{where}.value",
            expected=str(exc),
        ) from exc
    return Condition(name, op, value, key)


def _refuse_field(name: str, where: str) -> None:
    if name in PLANNED_FIELDS:
        raise Invalid(
            "condition_field_unavailable",
            N_("The condition {name} is not available on this installation yet."),
            field=where,
            name=name,
        )
    raise Invalid(
        "unknown_condition_field",
        N_("There is no condition {name}; available: {allowed}."),
        field=where,
        name=name,
        allowed=", ".join(sorted(FIELDS)),
    )


def _attribute_key(name: str, key: Any, where: str) -> str | None:
    if name != "customer_attribute":
        return None
    if not isinstance(key, str) or not key.strip() or len(key) > 100:
        raise Invalid(
            "invalid_condition_value",
            N_("{field} must name a customer attribute."),
            field=f"{where}.key",
        )
    return key.strip()


# --- evaluating -------------------------------------------------------------------------


def evaluate(conditions: Conditions, ctx: Context) -> tuple[bool, list[Verdict]]:
    """Whether the conditions hold for this conversation, and each one's verdict. A field
    unknown at run time (a rule saved before its provider was removed) does not hold."""
    verdicts = [_verdict(item, ctx) for item in conditions.items]
    if not verdicts:
        return True, verdicts
    results = [verdict.matched for verdict in verdicts]
    return (all(results) if conditions.match == "all" else any(results)), verdicts


def _verdict(condition: Condition, ctx: Context) -> Verdict:
    condition_field = FIELDS.get(condition.field)
    if condition_field is None:
        return Verdict(condition, False, None)
    seen = condition_field.read(ctx, condition)
    return Verdict(condition, condition_field.compare(condition.op, seen, condition.value), seen)


def accepts_status(conditions: Conditions, status: str) -> bool:
    """Whether a conversation in ``status`` could pass these conditions (loop checking):
    only status conditions are known; any other condition may hold."""
    statuses = [item for item in conditions.items if item.field == "status"]
    others = len(statuses) != len(conditions.items)
    verdicts = [_compare_choice(item.op, status, item.value) for item in statuses]
    if conditions.match == "all":
        return all(verdicts)
    return others or not statuses or any(verdicts)
