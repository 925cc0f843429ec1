"""Who may do what: one table, enforced on every route by the ``Allowed`` dependency.

A route without a rule here cannot be written (``Allowed`` refuses unknown permissions) and
the role-by-route matrix test fails for a route that does not declare one.
"""

from __future__ import annotations

from filrouge.core.models.enums import Role

STAFF = frozenset({Role.ADMIN, Role.SUPERVISOR, Role.AGENT})
EVERYONE = frozenset(Role)
MANAGERS = frozenset({Role.ADMIN, Role.SUPERVISOR})

RULES: dict[str, frozenset[Role]] = {
    "channels:list": EVERYONE,
    "channels:create": frozenset({Role.ADMIN}),
    "channels:read": EVERYONE,
    "webhooks:list": frozenset({Role.ADMIN}),  # raw provider payloads: personal data
    "inbound:create": STAFF,
    "conversations:list": EVERYONE,
    "conversations:read": EVERYONE,
    "conversations:update": STAFF,
    "conversations:reply": EVERYONE,
    "conversations:note": EVERYONE,
    "conversations:moderate": STAFF,  # hide a customer's public comment
    "messages:retry": STAFF,
    # correct a message's triage: contributors too, on the conversations they may see
    "messages:triage": EVERYONE,
    "customers:list": EVERYONE,
    "customers:read": EVERYONE,
    "customers:create": STAFF,
    "customers:update": STAFF,
    "customers:merge": MANAGERS,
    "customers:assign_owner": MANAGERS,  # the concierge: one by one or in bulk
    "customers:export": MANAGERS,  # GDPR: everything held on one person, with the reason
    "customers:erase": MANAGERS,  # GDPR: cannot be undone
    "duplicates:review": MANAGERS,
    "contacts:log": STAFF,
    "custom_fields:list": EVERYONE,
    "custom_fields:manage": frozenset({Role.ADMIN}),
    "segments:list": STAFF,
    "segments:manage": STAFF,  # private ones; sharing with the workspace: supervisors, admins
    "orders:read": EVERYONE,
    "orders:create": STAFF,
    "orders:import": MANAGERS,
    "attachments:read": EVERYONE,
    "surveys:read": MANAGERS,
    "reports:read": MANAGERS,
    "surveys:configure": frozenset({Role.ADMIN}),
    "transparency:manage": frozenset({Role.ADMIN}),  # publish the public page or not
    "routing:read": MANAGERS,  # teams' strategy and skills
    "routing:manage": MANAGERS,  # those, and agents' capacity
    "presence:set": EVERYONE,  # online / away / offline (contributors are never routed to)
    "notifications:read": EVERYONE,  # one's own
    "search:use": EVERYONE,  # each finds only what core/access.py lets them see
    "sla:read": EVERYONE,
    "sla:manage": frozenset({Role.ADMIN}),
    # pages of the agent workspace
    "account:use": EVERYONE,
    "inbox:view": EVERYONE,
    "admin:view": frozenset({Role.ADMIN}),
    "admin:manage": frozenset({Role.ADMIN}),
    "approvals:review": MANAGERS,
    "dashboard:view": MANAGERS,  # /reports: the figures, their exports, the conversations behind
    "canned:manage": MANAGERS,
    "callbacks:view": STAFF,
    "callbacks:handle": STAFF,
    # automation: rules for managers; macros for everyone, each action checked on its own right
    "automation:manage": MANAGERS,
    "macros:list": EVERYONE,
    "macros:write": STAFF,  # agents write their own; shared ones: managers (core/automation)
    "macros:apply": EVERYONE,
}


def is_allowed(role: str, permission: str) -> bool:
    return role in RULES[permission]
