"""Who is acting: a staff member, the platform user behind the feedback, the bot, the system."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from huiying.kit.roles import Role


class ActorType(StrEnum):
    USER = "user"
    STAFF = "staff"
    BOT = "bot"
    SYSTEM = "system"


@dataclass(frozen=True)
class Actor:
    type: ActorType
    name: str
    staff_id: int | None = None
    role: Role | None = None
    team_ids: frozenset[int] = frozenset()
    # None: everything the role allows; a set: an API key limited to these scopes.
    scopes: frozenset[str] | None = None
    ip: str | None = None

    @property
    def is_staff(self) -> bool:
        return self.type == ActorType.STAFF


SYSTEM = Actor(type=ActorType.SYSTEM, name="system")


def platform_user(user_id: str | None, *, ip: str | None = None) -> Actor:
    """The (unauthenticated) platform user behind public intake or the portal."""
    return Actor(type=ActorType.USER, name=user_id or "anonymous", ip=ip)
