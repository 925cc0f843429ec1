"""Satisfaction surveys, the rules: who is asked, in which words, until when.

A workspace's ``settings["surveys"]`` may change the defaults::

    {"enabled": true, "delay_minutes": 15, "expiry_days": 7, "min_days_between": 7,
     "ask_nps": true}

The delay lets an agent reopen a conversation resolved too soon before anyone is asked.

Who is asked: a conversation resolved by a person, in which the customer wrote and the team
answered, not spam, not public, at most one survey per conversation and one per customer every
``min_days_between`` days, never a customer who said no to messages on that channel
(``consent_<channel kind>`` false in their attributes), and only where free text may go.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from filrouge.core.errors import Invalid
from filrouge.i18n import LOCALES, N_, translate

SPAM_TAG = "spam"
SURVEY_TEXT = N_("Your request is resolved. How did we do? Tell us in 30 seconds: {link}")
CHAT_SURVEY_TEXT = N_("Your request is resolved. How did we do?")


class SurveyPolicy(BaseModel):
    enabled: bool = True
    delay_minutes: int = Field(default=15, ge=0, le=24 * 60)
    expiry_days: int = Field(default=7, ge=1, le=90)
    min_days_between: int = Field(default=7, ge=0, le=365)
    ask_nps: bool = True


class SurveyAnswer(BaseModel):
    """What the customer says: CSAT 1–5 (required), NPS 0–10, solved at the first contact?"""

    csat: int = Field(ge=1, le=5)
    nps: int | None = Field(default=None, ge=0, le=10)
    solved_first_contact: bool | None = None
    comment: str | None = Field(default=None, max_length=2000)


@dataclass(frozen=True)
class Skip:
    reason: str  # disabled, not_resolved, spam, no_customer_message, no_answer, already,
    # too_soon, no_consent, erased, and the reasons an automatic message is not sent


def policy_of(workspace_settings: dict[str, Any] | None) -> SurveyPolicy:
    """The workspace's survey rules; settings that cannot be read give the defaults."""
    raw = (workspace_settings or {}).get("surveys") or {}
    try:
        return SurveyPolicy.model_validate(raw)
    except ValueError:
        return SurveyPolicy()


def survey_policy_from(raw: dict[str, Any]) -> SurveyPolicy:
    """A policy as an administrator typed it; a value out of range is refused with the field."""
    try:
        return SurveyPolicy.model_validate(raw)
    except ValidationError as exc:
        field = str(exc.errors()[0]["loc"][0])
        limits = {
            "delay_minutes": (0, 24 * 60),
            "expiry_days": (1, 90),
            "min_days_between": (0, 365),
        }
        low, high = limits.get(field, (0, 0))
        raise Invalid(
            "invalid_survey_policy",
            "{field} must be a whole number from {low} to {high}.",
            field=field,
            low=low,
            high=high,
        ) from exc


def survey_locale(customer_attributes: dict[str, Any] | None, default: str = "fr") -> str:
    language = str((customer_attributes or {}).get("language") or "").lower()[:2]
    return language if language in LOCALES else default


def survey_text(locale: str, link: str, inline: bool) -> str:
    """The request in the customer's language; the chat shows its own rating buttons."""
    if inline:
        return translate(CHAT_SURVEY_TEXT, locale)
    return translate(SURVEY_TEXT, locale, link=link)
