"""The ticket page's compensation card and its two forms (propose; approve or reject).

Thin like the rest of the workspace: the same services as the API, then a redirect back to the
ticket with a notice or the refusal in the reader's language.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from huiying.accounts import access
from huiying.accounts.access import Permission
from huiying.compensation import api as compensation_api
from huiying.compensation import service, words
from huiying.errors import HuiyingError, InvalidInput, NotFound
from huiying.http.deps import DB, AppSettings
from huiying.kit.actor import Actor
from huiying.kit.roles import Role
from huiying.tickets.access import get_ticket_for
from huiying.tickets.models import Ticket
from huiying.web.auth import Page
from huiying.web.forms import CleanFormRoute
from huiying.web.wording import refused

router = APIRouter(include_in_schema=False, route_class=CleanFormRoute)


def card(session: Session, ticket: Ticket, actor: Actor, *, limit_cny: Decimal) -> dict[str, Any]:
    """What the card shows: the ticket's compensation and what the reader may do with it."""
    rows = service.of_ticket(session, ticket)
    return {
        "items": compensation_api.out(session, rows, ticket.number),
        "kinds": service.KINDS,
        "units": service.UNITS,
        "can_propose": access.has(actor, Permission.TICKET_WRITE) and ticket.status not in ("closed", "merged"),
        "can_decide": access.has(actor, Permission.TEAM_MANAGE),
        "me": actor.staff_id,
        "proposer_ids": {c.id: c.proposed_by for c in rows},
        "needs_admin": {c.id for c in rows if service.needs_admin(c, limit_cny=limit_cny)},
        "is_admin": actor.role == Role.ADMIN,
        "limit": words.number(limit_cny),
    }


def _back(number: str, *, notice: str | None = None, error: str | None = None) -> RedirectResponse:
    params = {k: v for k, v in (("notice", notice), ("error", error)) if v}
    query = "?" + urlencode(params) if params else ""
    return RedirectResponse(f"/tickets/{number}{query}#compensation", status_code=303)


@router.post("/tickets/{number}/compensations")
def propose(
    number: str,
    db: DB,
    page: Page,
    kind: Annotated[str, Form(max_length=32)],
    amount: Annotated[str, Form(max_length=32)],
    unit: Annotated[str, Form(max_length=16)] = "",
    note: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    try:
        try:
            value = Decimal(amount.strip().replace(",", ""))
        except InvalidOperation as exc:
            raise InvalidInput("the amount is not a number", code="bad_amount") from exc
        with db.write() as session:
            ticket = get_ticket_for(session, page.actor, number, permission=Permission.TICKET_WRITE)
            service.propose(
                session, ticket, kind=kind, amount=value, unit=unit or None, note=note.strip(), actor=page.actor
            )
    except HuiyingError as exc:
        return _back(number, error=refused(exc))
    return _back(number, notice="saved")


@router.post("/tickets/{number}/compensations/{compensation_id}/decision")
def decide(
    number: str,
    compensation_id: int,
    db: DB,
    settings: AppSettings,
    page: Page,
    approve: Annotated[str, Form(max_length=8)],
) -> Response:
    try:
        with db.write() as session:
            ticket = get_ticket_for(session, page.actor, number, permission=Permission.TICKET_WRITE)
            comp = service.get(session, compensation_id)
            if comp.ticket_id != ticket.id:  # another ticket's: as if it did not exist
                raise NotFound(f"no compensation {compensation_id}", code="unknown_compensation")
            service.decide(
                session,
                comp,
                approve=approve == "1",
                actor=page.actor,
                limit_cny=settings.compensation_approval_cny,
            )
    except HuiyingError as exc:
        return _back(number, error=refused(exc))
    return _back(number, notice="saved")
