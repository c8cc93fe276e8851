"""Staff roles live in `huiying.kit.roles` (a value type every layer uses); this name stays."""

from huiying.kit.roles import Role

__all__ = ["Role"]
