"""`Actor` lives in `huiying.kit.actor` (a value type every layer uses); this name stays."""

from huiying.kit.actor import SYSTEM, Actor, ActorType, platform_user

__all__ = ["SYSTEM", "Actor", "ActorType", "platform_user"]
