"""Channel accounts: creating an inbox of a kind, with its own inbound token."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy.orm import Session

from filrouge.core.audit import Actor, record_event
from filrouge.core.errors import Invalid, NotFound, check_choice
from filrouge.core.events import publish_after_commit
from filrouge.core.hours import check_holidays, check_hours, read_zone
from filrouge.core.models import ChannelAccount
from filrouge.core.models.enums import ChannelKind
from filrouge.core.signatures import SignatureStyle
from filrouge.core.sla import check_after_hours_texts
from filrouge.lib.crypto import is_secret_setting
from filrouge.lib.secrets import new_token, token_digest

KINDS_WITH_HOURS = frozenset({ChannelKind.CHAT, ChannelKind.CALLBACK})
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
    check_settings(kind, settings)
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


@dataclass
class ChannelChanges:
    """What an administrator may change on a channel; ``None`` leaves a field as it is.

    ``settings`` replaces the settings as a whole, except that a value still masked (as
    ``redact_settings`` shows secrets) keeps the secret stored before."""

    name: str | None = None
    active: bool | None = None
    signature_style: str | None = None
    settings: dict[str, Any] | None = None


def update_channel(
    session: Session, workspace_id: int, channel_id: int, changes: ChannelChanges, actor: Actor
) -> ChannelAccount:
    channel = channel_of_workspace(session, workspace_id, channel_id)
    before = _shown(channel)
    if changes.name is not None:
        if not changes.name.strip():
            raise Invalid("empty_name", "The name is empty.", field="name")
        channel.name = changes.name.strip()
    if changes.active is not None:
        channel.active = changes.active
    settings = dict(channel.settings or {})
    if changes.settings is not None:
        settings = _keep_masked_secrets(changes.settings, settings)
    if changes.signature_style is not None:
        settings = _with_signature_style(settings, changes.signature_style)
    check_settings(channel.kind, settings)
    if settings != (channel.settings or {}):
        channel.needs_reconnection_at = None  # new credentials: the next send will tell
        channel.reconnection_reason = None
    channel.settings = settings
    after = _shown(channel)
    if before != after:
        record_event(
            session, workspace_id, actor, ("channel", channel.id), "channel.updated", before, after
        )
    publish_after_commit(session, "channel.updated", channel_id=channel.id)
    return channel


def check_settings(kind: str, settings: dict[str, Any]) -> None:
    """Refuse, when it is saved, what a channel could not read later: the opening hours and time
    zone of the kinds that keep hours (a chat would otherwise be read as always open, a callback
    line as closed); after-hours words naming unknown values."""
    check_after_hours_texts(settings)
    if kind not in KINDS_WITH_HOURS:
        return
    # Each check raises ``BadHours``: an ``Invalid`` that says what is wrong, translated.
    if settings.get("timezone"):
        read_zone(str(settings["timezone"]))
    if settings.get("hours") is not None:
        check_hours(
            settings["hours"],
            settings.get("timezone"),
            settings.get("holidays_country"),
            holidays_subdiv=settings.get("holidays_subdiv"),
            exceptions=settings.get("exceptions"),
            closed_week_allowed=True,
        )
    check_holidays(settings.get("holidays_country"), settings.get("holidays_subdiv"))


def rotate_inbound_token(session: Session, workspace_id: int, channel_id: int, actor: Actor) -> str:
    """A new inbound token for the channel; the old one stops working at once."""
    channel = channel_of_workspace(session, workspace_id, channel_id)
    token = new_token("frin")
    channel.inbound_token_digest = token_digest(token)
    record_event(session, workspace_id, actor, ("channel", channel.id), "channel.token_rotated")
    return token


def channel_of_workspace(session: Session, workspace_id: int, channel_id: int) -> ChannelAccount:
    channel = session.get(ChannelAccount, channel_id)
    if channel is None or channel.workspace_id != workspace_id:
        raise NotFound(
            "unknown_channel", "There is no channel {id}.", field="channel_id", id=channel_id
        )
    return channel


def _shown(channel: ChannelAccount) -> dict[str, Any]:
    return {
        "name": channel.name,
        "active": channel.active,
        "settings": redact_settings(dict(channel.settings or {})),
    }


def _with_signature_style(settings: dict[str, Any], style: str) -> dict[str, Any]:
    if style == "":  # back to the default of the channel's kind
        return {k: v for k, v in settings.items() if k != "signature_style"}
    check_choice(style, SignatureStyle, "signature_style")
    return {**settings, "signature_style": style}


def _keep_masked_secrets(new: dict[str, Any], old: dict[str, Any]) -> dict[str, Any]:
    kept: dict[str, Any] = {}
    for key, value in new.items():
        if value == MASK and key in old:
            kept[key] = old[key]
        elif isinstance(value, dict) and isinstance(old.get(key), dict):
            kept[key] = _keep_masked_secrets(value, old[key])
        else:
            kept[key] = value
    return kept


def redact_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """Settings as they may be shown or logged: secrets masked, at any depth, and so are the
    credentials and query strings of URLs."""
    return {key: _redact(key, value) for key, value in settings.items()}


def _redact(key: str, value: Any) -> Any:
    if isinstance(value, dict):
        return redact_settings(value)
    if isinstance(value, list):
        return [_redact(key, item) for item in value]
    if value and is_secret_setting(key):
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
