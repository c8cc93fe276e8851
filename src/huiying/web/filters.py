"""The list page's query string as a ticket query (bad values are dropped, never a 500)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from starlette.datastructures import QueryParams

from huiying.tickets.enums import Priority, Status
from huiying.tickets.repository import SORTS, TicketQuery


def _enum_values(raw: str | None, allowed: type[Status] | type[Priority]) -> list[Any] | None:
    if not raw:
        return None
    values = [part for part in raw.split(",") if part in {m.value for m in allowed}]
    return [allowed(v) for v in values] or None


def _day(raw: str | None, tz: tzinfo) -> datetime | None:
    if not raw:
        return None
    try:
        return datetime.combine(date.fromisoformat(raw[:10]), time(), tzinfo=tz)
    except ValueError:
        return None


def parse_list_filters(params: QueryParams, base: TicketQuery, *, tz: tzinfo) -> tuple[TicketQuery, dict[str, Any]]:
    """Narrow the queue's query by the filter form; returns the query and the form's values."""
    values = {
        name: (params.get(name) or "").strip()[:200]
        for name in (
            "q",
            "status",
            "priority",
            "category",
            "channel",
            "assignee",
            "from",
            "to",
            "sort",
            "queue",
        )
    }
    query = base
    if values["q"]:
        query = replace(query, q=values["q"])
    status = _enum_values(values["status"], Status)
    if status:
        query = replace(query, status=status)
    priority = _enum_values(values["priority"], Priority)
    if priority:
        query = replace(query, priority=priority)
    if values["category"]:
        query = replace(query, category=values["category"])
    if values["channel"]:
        query = replace(query, channel=values["channel"])
    if values["assignee"]:
        query = replace(query, assignee=values["assignee"])
    created_from, created_to = _day(values["from"], tz), _day(values["to"], tz)
    if created_from:
        query = replace(query, created_from=created_from)
    if created_to:
        query = replace(query, created_to=created_to + timedelta(days=1))
    if values["sort"] in SORTS:
        query = replace(query, sort=values["sort"])
    return query, values
