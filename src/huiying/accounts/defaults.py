"""Teams a fresh install ships with (CONTRACT.md slugs; SPEC.md §3 groups)."""

from __future__ import annotations

from typing import NamedTuple


class TeamSeed(NamedTuple):
    slug: str
    name_zh: str
    name_en: str
    parent: str | None = None


DEFAULT_TEAMS: list[TeamSeed] = [
    TeamSeed("tech-support", "技术支持", "Tech support"),
    TeamSeed("tech-network", "网络组", "Network group", "tech-support"),
    TeamSeed("tech-client", "客户端组", "Client group", "tech-support"),
    TeamSeed("tech-server", "服务端组", "Server group", "tech-support"),
    TeamSeed("content-review", "内容审核", "Content review"),
    TeamSeed("merchant", "商家服务", "Merchant service"),
    TeamSeed("finance", "财务", "Finance"),
    TeamSeed("security", "安全与法务", "Security & legal"),
    TeamSeed("general", "综合服务", "General service"),
]
