"""Every night, each workspace's retention policy is applied (core/retention.py)."""

from __future__ import annotations

import logging

from huey import crontab
from sqlalchemy import select

from filrouge.core.models import Workspace
from filrouge.core.retention import apply_retention
from filrouge.db import transaction
from filrouge.jobs.queue import huey, task_blobs, task_factory

log = logging.getLogger(__name__)


@huey.periodic_task(crontab(hour="3", minute="17"))
def apply_retention_policies() -> int:
    """Anonymise what each workspace no longer keeps; how many conversations."""
    factory = task_factory()
    with factory() as session:
        workspace_ids = list(session.scalars(select(Workspace.id)))
    done = 0
    for workspace_id in workspace_ids:
        with huey.lock_task(f"retention-{workspace_id}"), transaction(factory) as session:
            workspace = session.get_one(Workspace, workspace_id)
            report = apply_retention(session, workspace, task_blobs())
        if report is not None and report.conversations:
            log.info("retention: %d conversations anonymised", report.conversations)
            done += report.conversations
    return done
