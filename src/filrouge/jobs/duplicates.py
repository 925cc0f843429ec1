"""Every ten minutes, the suggested duplicates of each workspace are brought up to date (only
the customers changed since the last scan are read: ``core/duplicates_scan.py``)."""

from __future__ import annotations

import logging

from huey import crontab
from sqlalchemy import select

from filrouge.core.actions.duplicates import refresh_suggestions
from filrouge.core.models import Workspace
from filrouge.db import transaction
from filrouge.jobs.queue import huey, task_factory

log = logging.getLogger(__name__)


@huey.periodic_task(crontab(minute="*/10"))
def scan_duplicates() -> int:
    factory = task_factory()
    with factory() as session:
        workspace_ids = list(session.scalars(select(Workspace.id)))
    new = 0
    for workspace_id in workspace_ids:
        with huey.lock_task(f"duplicates-{workspace_id}"), transaction(factory) as session:
            report = refresh_suggestions(session, workspace_id)
        new += report.new
        if report.new or report.withdrawn or report.counts.changed:
            log.info(
                "duplicates: %d new, %d withdrawn (%d customers changed, %d identities read)",
                report.new,
                report.withdrawn,
                report.counts.changed,
                report.counts.identities_read,
            )
    return new
