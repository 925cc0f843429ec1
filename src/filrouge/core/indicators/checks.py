"""Proof that the reports' facts did not drift: each workspace's channel report over the last
days, read from the facts and computed from the raw tables, figure by figure
(``filrouge reports check``; ``filrouge reports rebuild`` writes the facts again)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from filrouge.core.hours import BadHours, read_zone
from filrouge.core.indicators.figures import Figures, compute
from filrouge.core.indicators.period import ReportFilters, report_period
from filrouge.core.indicators.reference import compute_from_tables
from filrouge.core.indicators.reports import channel_report_with
from filrouge.core.models import Workspace
from filrouge.lib.timeutil import utcnow


def reports_differ(session: Session, days: int) -> list[str]:
    """One line per figure that differs (workspace, channel or total, figure, both values)."""
    differences: list[str] = []
    for workspace in session.scalars(select(Workspace).order_by(Workspace.id)):
        try:
            zone = read_zone((workspace.settings or {}).get("timezone"))
        except BadHours:
            zone = read_zone(None)
        today = utcnow().astimezone(zone).date()
        since, until = report_period(today - timedelta(days=days - 1), today, zone, today)
        filters = ReportFilters(since, until, zone)
        facts = channel_report_with(compute, session, workspace.id, filters)
        tables = channel_report_with(compute_from_tables, session, workspace.id, filters)
        read_groups = {f"channel {k}": v for k, v in facts[0].items()}
        counted_groups = {f"channel {k}": v for k, v in tables[0].items()}
        read_groups["total"], counted_groups["total"] = facts[1], tables[1]
        for key in sorted(set(read_groups) | set(counted_groups)):
            read = read_groups.get(key, Figures()).public()
            counted = counted_groups.get(key, Figures()).public()
            differences += [
                f"workspace {workspace.id}, {key}: {name} = {read[name]} (facts), "
                f"{counted[name]} (tables)"
                for name in read
                if read[name] != counted[name]
            ]
    return differences
