"""The reports' facts: one narrow row per conversation a report may count, and a row per other
channel its messages travelled on. The database writes them itself (triggers of migrations
0026 and 0027, in the transaction of every write that changes a figure's input); nothing in
Python does."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from filrouge.core.models.base import Base, IdType, UTCDateTime


class ReportConversation(Base):
    """A conversation begun by a customer's message and not tagged spam (docs/METRICS.md, the
    cohort), with what the figures need: its cuts, its durations in calendar seconds, its
    messages counted (on every channel) and whether it came back or changed channel. Rows are
    stored in period order (SQLite: ``WITHOUT ROWID``), so a report reads one range."""

    __tablename__ = "report_conversations"
    __table_args__ = (
        Index("ix_report_conversations_conversation", "conversation_id", unique=True),
        {"sqlite_with_rowid": False},
    )

    workspace_id: Mapped[int] = mapped_column(IdType, primary_key=True)
    first_inbound_at: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    customer_id: Mapped[int] = mapped_column(IdType)
    origin_channel_id: Mapped[int] = mapped_column(IdType)
    team_id: Mapped[int | None] = mapped_column(IdType)
    assignee_id: Mapped[int | None] = mapped_column(IdType)
    priority: Mapped[str] = mapped_column(String(16))
    first_response_s: Mapped[float | None] = mapped_column(Float)
    resolution_s: Mapped[float | None] = mapped_column(Float)
    inbound_messages: Mapped[int] = mapped_column(Integer)
    replies: Mapped[int] = mapped_column(Integer)  # human replies, as docs/METRICS.md says
    public_replies: Mapped[int] = mapped_column(Integer)
    signed_replies: Mapped[int] = mapped_column(Integer)
    reopened: Mapped[int] = mapped_column(Integer)  # 1 when a reopening was logged
    channel_switches: Mapped[int] = mapped_column(Integer)
    # when it stopped being open: its resolution; None while unfinished; its first message
    # when closed without a resolution (open at no moment). The backlog reads it (0027).
    open_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ReportOtherChannel(Base):
    """A cohort conversation's messages on a channel other than the one it began on (a
    question on Messenger answered by e-mail): messages count where they travelled."""

    __tablename__ = "report_other_channels"

    conversation_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    channel_id: Mapped[int] = mapped_column(IdType, primary_key=True)
    inbound_messages: Mapped[int] = mapped_column(Integer)
    replies: Mapped[int] = mapped_column(Integer)
    public_replies: Mapped[int] = mapped_column(Integer)
    signed_replies: Mapped[int] = mapped_column(Integer)
