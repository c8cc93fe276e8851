"""The portal's "all my feedback": shown only to a visitor who proved who they are.

Two proofs (portal/proof.py): the platform's signed user token, which its app passes as
`?user_id=…&user_token=…` on any portal page (or on the feedback form), and a one-time code sent
to a contact given with the feedback. A proof is kept in a signed cookie for some hours.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from huiying.errors import InvalidInput, RateLimited
from huiying.http.deps import DB, AppSettings, client_ip
from huiying.http.ratelimit import limits_of
from huiying.portal import codes, proof
from huiying.portal import service as portal
from huiying.portal.links import portal_token
from huiying.tickets import present
from huiying.tickets.schemas import TicketOut
from huiying.web import i18n
from huiying.web.auth import render
from huiying.web.form_csrf import csrf_ok, form_token, with_form_cookie
from huiying.web.forms import CleanFormRoute
from huiying.web.portal_proofs import keep_proofs, proofs_of, take_user_token

router = APIRouter(include_in_schema=False, route_class=CleanFormRoute)

MY_TICKETS_LIMIT = 50
MAX_CONTACT = 254


def _page(
    request: Request,
    *,
    step: str,
    status_code: int = 200,
    contact: str = "",
    message: str | None = None,
    tickets: list[tuple[TicketOut, str]] | None = None,
) -> HTMLResponse:
    token = form_token(request)
    page = render(
        request,
        "portal_mine.html",
        status_code=status_code,
        step=step,
        contact=contact,
        form_error=message,
        tickets=tickets or [],
        csrf_token=token,
        lang_query="",
    )
    return with_form_cookie(page, token)


@router.get("/portal/mine", response_class=HTMLResponse)
def my_feedback(request: Request, db: DB, settings: AppSettings) -> Response:
    """Every ticket of the proved user ids and contacts; without a proof, the way to get one."""
    redirect = take_user_token(request, settings)
    if redirect is not None:
        return redirect
    t = i18n.translator(i18n.language_of(request))
    try:
        limits_of(request).portal.check(ip=client_ip(request), user_id=None)
    except RateLimited:
        return _page(request, step="contact", status_code=429, message=t("error.rate_limited"))
    proofs = proofs_of(request, settings)
    if not proofs:
        return _page(request, step="contact")
    with db.read() as session:
        tickets: list[tuple[TicketOut, str]] = [
            (present.ticket_out(ticket), portal_token(settings.resolved_secret_key, ticket.number))
            for ticket in portal.proven_tickets(session, proofs, limit=MY_TICKETS_LIMIT)
        ]
    return _page(request, step="list", tickets=tickets)


@router.post("/portal/code", response_class=HTMLResponse)
def send_code(
    request: Request,
    db: DB,
    settings: AppSettings,
    contact: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Send a one-time code to the contact; the answer is the same whether or not it has feedback."""
    t = i18n.translator(i18n.language_of(request))
    contact = contact.strip()
    if not csrf_ok(request, csrf_token):
        return _page(request, step="contact", status_code=403, contact=contact, message=t("login.csrf"))
    if not contact or len(contact) > MAX_CONTACT:
        return _page(request, step="contact", status_code=422, contact="", message=t("portal.contact_required"))
    try:
        limits_of(request).portal.check(ip=client_ip(request), user_id=None)
        with db.write() as session:
            codes.request_code(
                session, contact=contact, language=i18n.language_of(request), secret_key=settings.resolved_secret_key
            )
    except RateLimited:
        return _page(request, step="contact", status_code=429, contact=contact, message=t("error.rate_limited"))
    except codes.CannotSendCodes:
        return _page(request, step="contact", status_code=503, contact=contact, message=t("portal.code_unavailable"))
    except InvalidInput:
        return _page(request, step="contact", status_code=422, message=t("portal.contact_required"))
    return _page(request, step="code", contact=contact)


@router.post("/portal/code/verify", response_class=HTMLResponse)
def check_code(
    request: Request,
    db: DB,
    settings: AppSettings,
    contact: Annotated[str, Form()] = "",
    code: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """A right code proves the contact: its feedback is listed from now on."""
    t = i18n.translator(i18n.language_of(request))
    contact = contact.strip()[:MAX_CONTACT]
    if not csrf_ok(request, csrf_token):
        return _page(request, step="code", status_code=403, contact=contact, message=t("login.csrf"))
    try:
        limits_of(request).portal.check(ip=client_ip(request), user_id=None)
        with db.write() as session:
            digest = codes.verify_code(
                session, contact=contact, code=code[:20], secret_key=settings.resolved_secret_key
            )
    except RateLimited:
        return _page(request, step="code", status_code=429, contact=contact, message=t("error.rate_limited"))
    if digest is None:
        return _page(request, step="code", status_code=422, contact=contact, message=t("portal.code_wrong"))
    response = RedirectResponse("/portal/mine", status_code=303)
    keep_proofs(response, settings, proofs_of(request, settings).with_contact(digest))
    return response


@router.post("/portal/forget")
def forget(request: Request, csrf_token: Annotated[str, Form()] = "") -> Response:
    """Stop listing this visitor's feedback on this device (a shared phone, a library computer)."""
    response = RedirectResponse("/portal/mine", status_code=303)
    if csrf_ok(request, csrf_token):
        response.delete_cookie(proof.COOKIE, path="/portal")
    return response
