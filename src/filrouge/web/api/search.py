"""``/api/v1/search``: messages, customers and orders matching what was typed, best first."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import AfterValidator, BaseModel

from filrouge.core.errors import Invalid
from filrouge.core.models import User
from filrouge.core.search import KINDS, Hit, SearchFilters, search
from filrouge.db import transaction
from filrouge.lib.timeutil import as_utc
from filrouge.web.deps import Allowed, FactoryDep, SettingsDep
from filrouge.web.schemas import IdQuery, TextQuery, clean_text

router = APIRouter(prefix="/search", tags=["search"])
# A pasted paragraph is read (its first words), not refused.
SearchText = Annotated[str, Query(max_length=2000), AfterValidator(clean_text)]


class SearchHitPublic(BaseModel):
    kind: str  # message, customer, order
    id: int
    conversation_id: int | None
    customer_id: int | None
    channel_id: int | None
    status: str | None
    score: float
    title: str
    snippet: str  # escaped HTML: the only markup is <mark> around what matched
    occurred_at: datetime | None


class SearchPage(BaseModel):
    results: list[SearchHitPublic]
    next_cursor: str | None


@router.get("", response_model=SearchPage)
def get_search(
    factory: FactoryDep,
    settings: SettingsDep,
    user: Annotated[User, Allowed("search:use")],
    q: SearchText = "",
    kind: Annotated[list[str] | None, Query(max_length=3)] = None,
    channel_id: IdQuery = None,
    status: TextQuery = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: TextQuery = None,
) -> SearchPage:
    filters = SearchFilters(
        kinds=kinds_of(kind),
        channel_id=channel_id,
        status=status or None,
        since=as_utc(since) if since else None,
        until=as_utc(until) if until else None,
    )
    with transaction(factory) as session:
        results = search(session, user, q, filters, limit, cursor, settings.default_region)
        return SearchPage(
            results=[hit_public(hit) for hit in results.hits], next_cursor=results.next_cursor
        )


def kinds_of(kinds: list[str] | None) -> tuple[str, ...]:
    """``kind=messages&kind=orders`` or ``kind=messages,orders``; none: every kind."""
    chosen = [part.strip() for value in kinds or [] for part in value.split(",") if part.strip()]
    unknown = [value for value in chosen if value not in KINDS]
    if unknown:
        raise Invalid(
            "invalid_choice",
            "{field} must be one of: {allowed}.",
            field="kind",
            allowed=", ".join(KINDS),
        )
    return tuple(k for k in KINDS if k in chosen) or KINDS


def hit_public(hit: Hit) -> SearchHitPublic:
    fields: dict[str, Any] = {
        name: getattr(hit, name)
        for name in ("kind", "id", "conversation_id", "customer_id", "channel_id", "status")
    }
    return SearchHitPublic(
        **fields,
        score=round(hit.score, 6),
        title=hit.title,
        snippet=hit.snippet,
        occurred_at=hit.occurred_at,
    )
