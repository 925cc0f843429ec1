"""Channel accounts: creating an inbox of a kind, with its own inbound token."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy.orm import Session

from filrouge.core.audit import Actor, record_event
from filrouge.core.errors import Invalid, check_choice
from filrouge.core.models import ChannelAccount
from filrouge.core.models.enums import ChannelKind
from filrouge.lib.secrets import new_token, token_digest

SECRET_SETTING_SUFFIXES = ("secret", "token", "password", "key")
MASK = "********"


def create_channel(
    session: Session,
    workspace_id: int,
    kind: str,
    name: str,
    settings: dict[str, Any],
    actor: Actor,
) -> tuple[ChannelAccount, str]:
    """Create a channel; return it and its inbound token (shown once, stored hashed)."""
    check_choice(kind, ChannelKind, "kind")
    if not name.strip():
        raise Invalid("empty_name", "The name is empty.", field="name")
    token = new_token("frin")
    channel = ChannelAccount(
        workspace_id=workspace_id,
        kind=kind,
        name=name.strip(),
        settings=settings,
        inbound_token_digest=token_digest(token),
    )
    session.add(channel)
    session.flush()
    record_event(
        session,
        workspace_id,
        actor,
        ("channel", channel.id),
        "channel.created",
        after={"kind": kind, "name": channel.name, "settings": redact_settings(settings)},
    )
    return channel, token


def redact_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """Settings as they may be shown or logged: secrets masked, at any depth, and so are the
    credentials and query strings of URLs."""
    return {key: _redact(key, value) for key, value in settings.items()}


def _redact(key: str, value: Any) -> Any:
    if isinstance(value, dict):
        return redact_settings(value)
    if isinstance(value, list):
        return [_redact(key, item) for item in value]
    if value and key.lower().endswith(SECRET_SETTING_SUFFIXES):
        return MASK
    if isinstance(value, str) and "://" in value:
        return redact_url(value)
    return value


def redact_url(url: str) -> str:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return MASK
    host = parts.hostname or ""
    netloc = f"{MASK}@{host}" if parts.username or parts.password else host
    netloc += f":{port}" if port else ""
    return urlunsplit((parts.scheme, netloc, parts.path, MASK if parts.query else "", ""))
