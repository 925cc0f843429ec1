"""People who answer: users (admins, supervisors, agents, contributors), teams, API tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from filrouge.core.models.base import Base, CreatedMixin, IdMixin, IdType, JsonType, UTCDateTime

team_members = Table(
    "team_members",
    Base.metadata,
    Column("team_id", IdType, ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", IdType, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
)


class Team(IdMixin, CreatedMixin, Base):
    __tablename__ = "teams"

    workspace_id: Mapped[int] = mapped_column(IdType, ForeignKey("workspaces.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    # Opening hours (core/hours.py): hours, timezone, holidays_country, holidays_subdiv,
    # exceptions; none: the workspace's calendar.
    calendar: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    # Routing (core/routing/): off (reached only by hand or by rules), manual (the team's
    # queue), round_robin or least_loaded; the skills that bring a new conversation here
    # (empty: any); whether answered conversations also move when their agent goes offline;
    # the last agent round-robin gave one to (the cursor, shared by every process).
    strategy: Mapped[str] = mapped_column(String(16), default="off", server_default="off")
    languages: Mapped[list[str]] = mapped_column(JsonType, default=list, server_default="[]")
    topics: Mapped[list[str]] = mapped_column(JsonType, default=list, server_default="[]")
    channel_kinds: Mapped[list[str]] = mapped_column(JsonType, default=list, server_default="[]")
    reroute_answered: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    round_robin_last_id: Mapped[int | None] = mapped_column(IdType)
    members: Mapped[list[User]] = relationship(secondary=team_members, back_populates="teams")


class User(IdMixin, CreatedMixin, Base):
    __tablename__ = "users"

    workspace_id: Mapped[int] = mapped_column(IdType, ForeignKey("workspaces.id"), index=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    signature: Mapped[str | None] = mapped_column(Text)
    locale: Mapped[str] = mapped_column(String(8), default="fr")
    timezone: Mapped[str] = mapped_column(
        String(64), default="Europe/Paris", server_default="Europe/Paris"
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Contributors (employees outside support) see conversations tagged with their expertise;
    # their replies wait for a supervisor's approval unless they are trusted.
    expertise: Mapped[list[str]] = mapped_column(JsonType, default=list, server_default="[]")
    trusted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # online / away / offline, as the agent says (core/presence.py: routing also reads the
    # last activity); presence_at: when it was last set.
    presence: Mapped[str] = mapped_column(String(16), default="offline", server_default="offline")
    presence_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Conversations open at once per kind of channel ("chat", "email", "social", "other"),
    # over the defaults of core/routing/capacity.py.
    capacity: Mapped[dict[str, int]] = mapped_column(JsonType, default=dict, server_default="{}")
    teams: Mapped[list[Team]] = relationship(secondary=team_members, back_populates="members")

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.strip() else self.email


class ContributorOffer(IdMixin, CreatedMixin, Base):
    """A conversation offered to a contributor whose expertise it matches: they see it and may
    answer (their reply still waits for approval); the team keeps it."""

    __tablename__ = "contributor_offers"
    __table_args__ = (UniqueConstraint("conversation_id", "user_id"),)

    conversation_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("conversations.id", ondelete="CASCADE")
    )
    user_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    matched: Mapped[str] = mapped_column(String(64))  # the expertise tag that matched


class ApiToken(IdMixin, CreatedMixin, Base):
    """A bearer token; only its SHA-256 digest is stored."""

    __tablename__ = "api_tokens"

    user_id: Mapped[int] = mapped_column(IdType, ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    user: Mapped[User] = relationship()


class WebSession(IdMixin, CreatedMixin, Base):
    """A signed-in browser. The cookie holds a random token; only its digest is stored."""

    __tablename__ = "web_sessions"

    user_id: Mapped[int] = mapped_column(IdType, ForeignKey("users.id"), index=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    user: Mapped[User] = relationship()


class Invitation(IdMixin, CreatedMixin, Base):
    """A link to choose one's password: sent to a new colleague, or to one who forgot it.
    Only its digest is stored; it works once, until it expires."""

    __tablename__ = "invitations"

    user_id: Mapped[int] = mapped_column(IdType, ForeignKey("users.id"), index=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    user: Mapped[User] = relationship()


class LoginFailure(IdMixin, Base):
    """A failed sign-in, kept to slow down password guessing (by address and by IP)."""

    __tablename__ = "login_failures"
    __table_args__ = (
        Index("ix_login_failures_email_at", "email", "at"),
        Index("ix_login_failures_ip_at", "ip", "at"),
    )

    email: Mapped[str] = mapped_column(String(320))
    ip: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class CannedResponse(IdMixin, CreatedMixin, Base):
    """A reply the team writes once and reuses; ``{{ customer.first_name }}`` and
    ``{{ agent.first_name }}`` are filled in for each conversation."""

    __tablename__ = "canned_responses"

    workspace_id: Mapped[int] = mapped_column(IdType, ForeignKey("workspaces.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("users.id"))
