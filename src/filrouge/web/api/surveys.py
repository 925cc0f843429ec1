"""``/survey-policy``: who is asked for their satisfaction after a resolution (admins)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from filrouge.core.actions.surveys import set_survey_policy
from filrouge.core.audit import Actor
from filrouge.core.models import User, Workspace
from filrouge.core.surveys import SurveyPolicy, policy_of
from filrouge.db import transaction
from filrouge.web.deps import Allowed, FactoryDep

router = APIRouter(prefix="/survey-policy", tags=["satisfaction"])


@router.get("", response_model=SurveyPolicy)
def get_survey_policy(
    factory: FactoryDep, user: Annotated[User, Allowed("surveys:read")]
) -> SurveyPolicy:
    with transaction(factory) as session:
        return policy_of(session.get_one(Workspace, user.workspace_id).settings)


@router.put("", response_model=SurveyPolicy)
def put_survey_policy(
    body: SurveyPolicy, factory: FactoryDep, user: Annotated[User, Allowed("surveys:configure")]
) -> SurveyPolicy:
    """Replace the policy: enabled, delay_minutes (0–1440), expiry_days (1–90),
    min_days_between (0–365), ask_nps."""
    with transaction(factory) as session:
        workspace = session.get_one(Workspace, user.workspace_id)
        return set_survey_policy(session, workspace, body, Actor.user(user.id))
