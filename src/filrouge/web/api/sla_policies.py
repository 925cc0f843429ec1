"""Service-level policies: ``/sla-policies`` (everyone reads them; admins change them)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter

from filrouge.core.actions.sla_policies import (
    PolicyData,
    create_policy,
    delete_policy,
    get_policy,
    list_policies,
    policy_data,
    update_policy,
)
from filrouge.core.audit import Actor
from filrouge.core.models import SlaPolicy, User
from filrouge.db import transaction
from filrouge.web.deps import Allowed, FactoryDep
from filrouge.web.schemas import IdPath, SlaPolicyCreate, SlaPolicyPublic, SlaPolicyUpdate

router = APIRouter(prefix="/sla-policies", tags=["service levels"])


def policy_public(policy: SlaPolicy) -> SlaPolicyPublic:
    return SlaPolicyPublic(id=policy.id, **asdict(policy_data(policy)))


@router.get("", response_model=list[SlaPolicyPublic])
def get_policies(
    factory: FactoryDep, user: Annotated[User, Allowed("sla:read")]
) -> list[SlaPolicyPublic]:
    """Every policy, in the order they are tried (the first that matches applies)."""
    with transaction(factory) as session:
        return [policy_public(p) for p in list_policies(session, user.workspace_id)]


@router.get("/{policy_id}", response_model=SlaPolicyPublic)
def get_one_policy(
    policy_id: IdPath, factory: FactoryDep, user: Annotated[User, Allowed("sla:read")]
) -> SlaPolicyPublic:
    with transaction(factory) as session:
        return policy_public(get_policy(session, user.workspace_id, policy_id))


@router.post("", status_code=201, response_model=SlaPolicyPublic)
def post_policy(
    body: SlaPolicyCreate, factory: FactoryDep, user: Annotated[User, Allowed("sla:manage")]
) -> SlaPolicyPublic:
    data = PolicyData(**body.model_dump(mode="json"))
    with transaction(factory) as session:
        policy = create_policy(session, user.workspace_id, data, Actor.user(user.id))
        return policy_public(policy)


@router.patch("/{policy_id}", response_model=SlaPolicyPublic)
def patch_policy(
    policy_id: IdPath,
    body: SlaPolicyUpdate,
    factory: FactoryDep,
    user: Annotated[User, Allowed("sla:manage")],
) -> SlaPolicyPublic:
    """Change the fields given (``null`` clears a target)."""
    changes = body.model_dump(mode="json", exclude_unset=True)
    with transaction(factory) as session:
        policy = update_policy(session, user.workspace_id, policy_id, changes, Actor.user(user.id))
        return policy_public(policy)


@router.delete("/{policy_id}", status_code=204)
def remove_policy(
    policy_id: IdPath, factory: FactoryDep, user: Annotated[User, Allowed("sla:manage")]
) -> None:
    """Deactivate a policy (its outcomes stay in the reports)."""
    with transaction(factory) as session:
        delete_policy(session, user.workspace_id, policy_id, Actor.user(user.id))
