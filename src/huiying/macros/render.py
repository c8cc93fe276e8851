"""Filling a macro's variables. Pure: `{{ name }}` placeholders only, no expressions, so an
admin-written macro can never run code (no template engine evaluates it)."""

from __future__ import annotations

import re
from collections.abc import Mapping

VARIABLES = {
    "number": ("工单编号", "ticket number"),
    "title": ("标题", "title"),
    "user_name": ("用户称呼", "the user's name"),
    "agent_name": ("客服姓名", "your name"),
    "category": ("分类", "category"),
    "status": ("状态", "status"),
    "portal_url": ("进度查询链接", "status page link"),
}
_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")


def unknown_variables(body: str) -> list[str]:
    """Placeholders in `body` that no ticket can fill (so an admin sees the typo)."""
    return sorted({name for name in _PLACEHOLDER.findall(body) if name not in VARIABLES})


def render(body: str, values: Mapping[str, str | None]) -> str:
    """`body` with each known placeholder replaced; a missing value becomes empty text."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in VARIABLES:
            return match.group(0)
        return values.get(name) or ""

    return _PLACEHOLDER.sub(replace, body)
