"""Turn the public transparency page on or off (admins); its address is made on first use."""

from __future__ import annotations

from sqlalchemy.orm import Session

from filrouge.core.audit import Actor, record_event
from filrouge.core.models import Workspace
from filrouge.core.transparency import TransparencySettings, new_token, transparency_of


def set_transparency(
    session: Session, workspace: Workspace, enabled: bool, actor: Actor
) -> TransparencySettings:
    """Publish (or stop publishing) the page; the log keeps who did and when."""
    before = transparency_of(workspace.settings)
    after = TransparencySettings(enabled=enabled, token=before.token or new_token())
    if after == before:
        return after
    workspace.settings = {**(workspace.settings or {}), "transparency": after.model_dump()}
    record_event(
        session,
        workspace.id,
        actor,
        ("workspace", workspace.id),
        "workspace.transparency_changed",
        before={"enabled": before.enabled},
        after={"enabled": after.enabled},
    )
    return after
