"""The triage's condition fields: ``type``, ``sentiment``, ``language`` of the message that
triggered the rule (else the conversation's latest customer message), as stored
(core/models/triage.py, corrections included). A message not triaged matches no ``eq``/``in``.
"""

from __future__ import annotations

import re
from typing import Any

from filrouge.core.automation.conditions import (
    CHOICE_OPS,
    Condition,
    ConditionField,
    Context,
    _choices,
    _compare_choice,
    register_field,
)
from filrouge.triage.types import SENTIMENTS, TYPES

_LANGUAGE = re.compile(r"^[a-z]{2,3}$")


def _label(name: str) -> Any:
    def read(ctx: Context, condition: Condition) -> Any:
        triage = None if ctx.message is None else ctx.message.triage
        return None if triage is None else getattr(triage, name)

    return read


def _check_language(op: str, value: Any) -> Any:
    values = value if isinstance(value, list) else [value]
    codes = [str(v).strip().lower() for v in values]
    if not codes or not all(_LANGUAGE.match(code) for code in codes):
        raise ValueError("a language code such as fr or en")
    return codes if op == "in" else codes[0]


register_field("type", ConditionField(CHOICE_OPS, _label("type"), _choices(TYPES), _compare_choice))
register_field(
    "sentiment",
    ConditionField(CHOICE_OPS, _label("sentiment"), _choices(SENTIMENTS), _compare_choice),
)
register_field(
    "language", ConditionField(CHOICE_OPS, _label("language"), _check_language, _compare_choice)
)
