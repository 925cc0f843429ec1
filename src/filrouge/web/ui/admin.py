"""Administration: the channel accounts and the people of the workspace."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select

from filrouge.core.actions.channels import redact_settings
from filrouge.core.models import ChannelAccount, User
from filrouge.db import transaction
from filrouge.web.deps import FactoryDep
from filrouge.web.ui.auth import PageAllowed, Visitor
from filrouge.web.ui.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/admin")
def admin_page(
    request: Request,
    factory: FactoryDep,
    visitor: Annotated[Visitor, PageAllowed("admin:view")],
) -> Response:
    workspace_id = visitor.user.workspace_id
    with transaction(factory) as session:
        channels = [
            (c, redact_settings(c.settings or {}))
            for c in session.scalars(
                select(ChannelAccount)
                .where(ChannelAccount.workspace_id == workspace_id)
                .order_by(ChannelAccount.id)
            )
        ]
        users = list(
            session.scalars(
                select(User).where(User.workspace_id == workspace_id).order_by(User.name)
            )
        )
    context = {"channels": channels, "users": users}
    return render(request, "admin.html", context, visitor)
