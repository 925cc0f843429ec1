"""People who answer: users (admins, supervisors, agents, contributors), teams, API tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Column, ForeignKey, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from filrouge.core.models.base import Base, CreatedMixin, IdMixin, IdType, UTCDateTime

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
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    teams: Mapped[list[Team]] = relationship(secondary=team_members, back_populates="members")

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.strip() else self.email


class ApiToken(IdMixin, CreatedMixin, Base):
    """A bearer token; only its SHA-256 digest is stored."""

    __tablename__ = "api_tokens"

    user_id: Mapped[int] = mapped_column(IdType, ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    user: Mapped[User] = relationship()
