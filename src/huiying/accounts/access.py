"""Who may do what: the permission matrix, in one place.

Roles grant permissions; an API key narrows its owner's permissions to its scopes. Tickets are
further scoped by team: without `ticket:read_all`, staff see the tickets of their teams (and of
the sub-teams of those teams) plus tickets not yet routed to any team.

    permission        agent senior supervisor admin qa auditor
    ticket:read         x     x       x        x    x
    ticket:read_all                            x    x
    ticket:write        x     x       x        x
    ticket:create       x     x       x        x
    ticket:merge              x       x        x
    pii:view                          x        x
    moderation:freeze         x       x        x
    team:manage                       x        x
    qa:score                                        x
    config:manage                              x
    staff:manage                               x
    apikey:manage                              x
    privacy:dsr                                x
    audit:read                                          x
    suggestion:decide                 x        x
"""

from __future__ import annotations

from enum import StrEnum

from huiying.errors import Forbidden
from huiying.kit.actor import Actor
from huiying.kit.roles import Role


class Permission(StrEnum):
    TICKET_READ = "ticket:read"
    TICKET_READ_ALL = "ticket:read_all"
    TICKET_WRITE = "ticket:write"
    TICKET_CREATE = "ticket:create"
    TICKET_MERGE = "ticket:merge"
    PII_VIEW = "pii:view"
    MODERATION_FREEZE = "moderation:freeze"
    TEAM_MANAGE = "team:manage"
    QA_SCORE = "qa:score"
    CONFIG_MANAGE = "config:manage"
    STAFF_MANAGE = "staff:manage"
    APIKEY_MANAGE = "apikey:manage"
    PRIVACY_DSR = "privacy:dsr"
    AUDIT_READ = "audit:read"
    SUGGESTION_DECIDE = "suggestion:decide"  # the suggestion pool's planned/adopted/declined


P = Permission
_AGENT = frozenset({P.TICKET_READ, P.TICKET_WRITE, P.TICKET_CREATE})
_SENIOR = _AGENT | {P.TICKET_MERGE, P.MODERATION_FREEZE}
_SUPERVISOR = _SENIOR | {P.PII_VIEW, P.TEAM_MANAGE, P.SUGGESTION_DECIDE}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.AGENT: _AGENT,
    Role.SENIOR: _SENIOR,
    Role.SUPERVISOR: _SUPERVISOR,
    Role.ADMIN: _SUPERVISOR
    | {
        P.TICKET_READ_ALL,
        P.CONFIG_MANAGE,
        P.STAFF_MANAGE,
        P.APIKEY_MANAGE,
        P.PRIVACY_DSR,
    },
    Role.QA: frozenset({P.TICKET_READ, P.TICKET_READ_ALL, P.QA_SCORE}),
    Role.AUDITOR: frozenset({P.AUDIT_READ}),
}

# What an API key may be limited to (an integration that may only post feedback, say).
API_KEY_SCOPES = frozenset(p.value for p in Permission)


def permissions_of(actor: Actor) -> frozenset[Permission]:
    """The actor's effective permissions: its role's, narrowed to its scopes if it has any."""
    if not actor.is_staff or actor.role is None:
        return frozenset()
    granted = ROLE_PERMISSIONS[actor.role]
    if actor.scopes is not None:
        granted = frozenset(p for p in granted if p.value in actor.scopes)
    return granted


def has(actor: Actor, permission: Permission) -> bool:
    return permission in permissions_of(actor)


def require(actor: Actor, permission: Permission) -> None:
    """Raise Forbidden (403) unless the actor holds `permission`."""
    if not has(actor, permission):
        raise Forbidden(
            f"your role may not do this (needs {permission.value})",
            details={"permission": permission.value},
        )


def visible_team_ids(actor: Actor) -> frozenset[int] | None:
    """The teams whose tickets the actor sees; None means every team."""
    if has(actor, Permission.TICKET_READ_ALL):
        return None
    return actor.team_ids


def can_see_team(actor: Actor, team_id: int | None) -> bool:
    """Whether a ticket of `team_id` (None: not yet routed) is visible to the actor."""
    if not has(actor, Permission.TICKET_READ):
        return False
    teams = visible_team_ids(actor)
    return teams is None or team_id is None or team_id in teams


def can_work_ticket(actor: Actor, team_id: int | None) -> bool:
    """Whether a ticket of `team_id` may be given to the actor: a role that works tickets
    (ticket:write, so not qa or auditor) and a reader of that team's tickets (see can_see_team)."""
    return has(actor, Permission.TICKET_WRITE) and can_see_team(actor, team_id)
