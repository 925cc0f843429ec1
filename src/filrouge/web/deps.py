"""Request dependencies: settings, the session factory, the authenticated user and its rights."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session, sessionmaker

from filrouge.core.actions.users import user_for_token
from filrouge.core.models import User
from filrouge.db import transaction
from filrouge.settings import Settings
from filrouge.web.errors import http_error
from filrouge.web.permissions import RULES, is_allowed

_bearer = HTTPBearer(auto_error=False, description="An API token from `filrouge token create`.")


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_factory(request: Request) -> sessionmaker[Session]:
    factory: sessionmaker[Session] = request.app.state.session_factory
    return factory


SettingsDep = Annotated[Settings, Depends(get_settings)]
FactoryDep = Annotated[sessionmaker[Session], Depends(get_factory)]


def bearer_user(
    factory: FactoryDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise http_error(
            401, "unauthorized", "A valid API token is required (Authorization: Bearer …)."
        )
    with transaction(factory) as session:
        user = user_for_token(session, credentials.credentials)
    if user is None:
        raise http_error(401, "invalid_token", "This API token is unknown or revoked.")
    return user


def Allowed(permission: str) -> Any:  # noqa: N802 - reads as a type in signatures
    """``user: Annotated[User, Allowed("conversations:reply")]``: authenticate, then check role."""
    if permission not in RULES:
        raise KeyError(f"no rule for permission {permission!r} in web/permissions.py")

    def check(user: Annotated[User, Depends(bearer_user)]) -> User:
        return require_role(user, permission)

    check.permission = permission  # type: ignore[attr-defined]
    return Depends(check)


def require_role(user: User, permission: str) -> User:
    """``user`` if their role allows ``permission``, else a 403 that names both."""
    if not is_allowed(user.role, permission):
        raise http_error(
            403,
            "forbidden",
            "Your role ({role}) does not allow {permission}.",
            role=user.role,
            permission=permission,
        )
    return user


def permission_of(dependency: Callable[..., Any]) -> str | None:
    return getattr(dependency, "permission", None)
