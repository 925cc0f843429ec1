"""A saved segment's customers, found once per report: the segment's conditions (attributes in
JSON, reach, age bands…) are read over the customers once, into a temporary table, instead of
by each of the report's queries."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, MetaData, Table, insert, select, text
from sqlalchemy.orm import Session

from filrouge.core.models import Customer
from filrouge.core.models.base import IdType

SEGMENT_MEMBERS = Table(
    "report_segment_members",
    MetaData(),  # not the models': no migration, dropped at commit (PostgreSQL) or reused
    Column("customer_id", IdType, primary_key=True, autoincrement=False),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DROP",
)


def segment_members(session: Session, workspace_id: int, segment: Any) -> Any:
    """The ids of the workspace's customers the segment holds, as a subquery."""
    connection = session.connection()
    connection.execute(text(f"DROP TABLE IF EXISTS {SEGMENT_MEMBERS.name}"))
    SEGMENT_MEMBERS.create(connection)
    members = select(Customer.id).where(Customer.workspace_id == workspace_id, segment)
    connection.execute(insert(SEGMENT_MEMBERS).from_select(["customer_id"], members))
    if connection.dialect.name == "postgresql":  # the planner learns how many there are
        connection.execute(text(f"ANALYZE {SEGMENT_MEMBERS.name}"))
    return select(SEGMENT_MEMBERS.c.customer_id)
