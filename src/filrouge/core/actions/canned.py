"""Canned responses: written once by supervisors, filled in for each conversation.

Bodies are Jinja2 templates run in a sandbox with two variables only, ``customer`` and
``agent`` (``first_name``, ``name``): whoever writes them cannot reach anything else.
"""

from __future__ import annotations

from jinja2 import TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import select
from sqlalchemy.orm import Session

from filrouge.core.audit import Actor, record_event
from filrouge.core.errors import Invalid, NotFound
from filrouge.core.models import CannedResponse, Customer, User

_sandbox = SandboxedEnvironment(autoescape=False)


def create_canned(
    session: Session, workspace_id: int, title: str, body: str, actor: Actor
) -> CannedResponse:
    if not title.strip() or not body.strip():
        raise Invalid("empty_text", "The text is empty.", field="body")
    try:
        _sandbox.parse(body)
    except TemplateSyntaxError as exc:
        raise Invalid(
            "invalid_template",
            "The response cannot be read: {reason}.",
            field="body",
            reason=exc.message or "",
        ) from exc
    canned = CannedResponse(
        workspace_id=workspace_id, title=title.strip()[:200], body=body, created_by_id=actor.id
    )
    session.add(canned)
    session.flush()
    record_event(
        session,
        workspace_id,
        actor,
        ("canned_response", canned.id),
        "canned.created",
        after={"title": canned.title},
    )
    return canned


def delete_canned(session: Session, workspace_id: int, canned_id: int, actor: Actor) -> None:
    canned = session.get(CannedResponse, canned_id)
    if canned is None or canned.workspace_id != workspace_id:
        raise NotFound("canned_not_found", "There is no canned response {id}.", id=canned_id)
    record_event(
        session,
        workspace_id,
        actor,
        ("canned_response", canned.id),
        "canned.deleted",
        before={"title": canned.title, "body": canned.body},
    )
    session.delete(canned)


def list_canned(session: Session, workspace_id: int) -> list[CannedResponse]:
    return list(
        session.scalars(
            select(CannedResponse)
            .where(CannedResponse.workspace_id == workspace_id)
            .order_by(CannedResponse.title)
        )
    )


def fill_canned(body: str, customer: Customer, agent: User) -> str:
    """The response for this customer, from this agent."""
    customer_name = (customer.name or "").strip()
    variables = {
        "customer": {"name": customer_name, "first_name": customer_name.split(" ")[0]},
        "agent": {"name": agent.name, "first_name": agent.first_name},
    }
    return _sandbox.from_string(body).render(**variables)
