"""Creating, editing and filling macros."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from huiying.audit import service as audit
from huiying.errors import InvalidInput, NotFound
from huiying.kit.actor import Actor
from huiying.kit.clock import utcnow
from huiying.macros.defaults import DEFAULT_MACROS
from huiying.macros.models import Macro
from huiying.macros.render import render, unknown_variables
from huiying.tickets.models import Ticket


def _check(body: str) -> None:
    unknown = unknown_variables(body)
    if unknown:
        raise InvalidInput(
            f"unknown variables: {', '.join(unknown)}",
            code="unknown_variable",
            details={"unknown": unknown},
        )


def list_macros(session: Session, *, include_inactive: bool = False) -> list[Macro]:
    statement = select(Macro).order_by(Macro.language, Macro.name)
    if not include_inactive:
        statement = statement.where(Macro.active.is_(True))
    return list(session.scalars(statement))


def get_macro(session: Session, macro_id: int) -> Macro:
    macro = session.get(Macro, macro_id)
    if macro is None:
        raise NotFound("no such macro", code="unknown_macro")
    return macro


def create_macro(session: Session, *, name: str, body: str, language: str, category: str | None, actor: Actor) -> Macro:
    _check(body)
    macro = Macro(name=name, body=body, language=language, category=category, created_by_id=actor.staff_id)
    session.add(macro)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="macro.created",
        object_type="macro",
        object_id=str(macro.id),
        after={"name": name},
    )
    return macro


def update_macro(
    session: Session,
    macro: Macro,
    *,
    actor: Actor,
    name: str | None = None,
    body: str | None = None,
    language: str | None = None,
    category: str | None = None,
    active: bool | None = None,
) -> Macro:
    if body is not None:
        _check(body)
    wanted: dict[str, Any] = {"name": name, "body": body, "language": language, "active": active}
    changes = {field: value for field, value in wanted.items() if value is not None}
    if category is not None:
        changes["category"] = category or None  # "" clears it
    if audit.apply_changes(
        session, macro, changes, actor=actor, action="macro.updated", object_type="macro", object_id=str(macro.id)
    ):
        macro.updated_at = utcnow()
    return macro


# How a user without a known name is addressed ("{{ user_name }}您好" / "Hello {{ user_name }},").
ANONYMOUS_NAME = {"zh": "", "en": "there"}


def ordered_for(macros: list[Macro], ticket: Ticket, language: str) -> list[Macro]:
    """Macros of the ticket's category first, then those in the reader's language."""
    return sorted(
        macros,
        key=lambda m: (m.category not in (ticket.category, None), m.category is None, m.language != language, m.name),
    )


def fill(macro: Macro, ticket: Ticket, *, agent_name: str, portal_url: str, category_name: str | None) -> str:
    """The macro's text for one ticket."""
    return render(
        macro.body,
        {
            "number": ticket.number,
            "title": ticket.title,
            "user_name": ticket.user_name or ANONYMOUS_NAME.get(macro.language, ""),
            "agent_name": agent_name,
            "category": category_name or ticket.category,
            "status": ticket.status,
            "portal_url": portal_url,
        },
    )


def ensure_defaults(session: Session) -> int:
    if session.scalar(select(Macro.id).limit(1)) is not None:
        return 0
    for name, body, language, category in DEFAULT_MACROS:
        session.add(Macro(name=name, body=body, language=language, category=category))
    session.flush()
    return len(DEFAULT_MACROS)
