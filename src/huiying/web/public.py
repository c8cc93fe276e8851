"""Pages for platform users (no staff login): the feedback form, its result page, and
"my feedback" — reached by the signed link of a notification or by number plus contact.

Forms of anonymous visitors carry a double-submit CSRF token (a cookie and a hidden field).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from huiying.categories import service as categories
from huiying.errors import HuiyingError, InvalidInput, NotFound, RateLimited
from huiying.http.deps import DB, AppSettings, client_ip
from huiying.http.ratelimit import limits_of
from huiying.http.responses import file_response
from huiying.kit.actor import Actor, platform_user
from huiying.kit.strings import clean, has_visible
from huiying.portal import service as portal
from huiying.portal.links import number_from_token, portal_token
from huiying.surveys import service as surveys
from huiying.tickets import attachments, intake, present
from huiying.tickets.enums import Channel
from huiying.tickets.intake_policy import IntakeCaller
from huiying.tickets.models import Attachment, Ticket
from huiying.tickets.schemas import FeedbackIn
from huiying.web import i18n
from huiying.web.auth import render
from huiying.web.form_csrf import csrf_ok, form_token, with_form_cookie
from huiying.web.forms import CleanFormRoute
from huiying.web.portal_proofs import keep_proofs, proofs_of, take_user_token, user_claim
from huiying.web.wording import error_text, refused, validation_text

router = APIRouter(include_in_schema=False, route_class=CleanFormRoute)

_CHANNELS = frozenset(c.value for c in Channel)

PREFILL = (
    "user_id",
    "user_name",
    "contact",
    "os",
    "model",
    "app_version",
    "city",
    "channel",
    "order_no",
    "room_id",
    # The platform's signed token for its logged-in user (portal/user_token.py).
    "user_token",
)


def _lang_query(request: Request) -> str:
    kept = {k: v for k, v in request.query_params.items() if k != "lang"}
    return urlencode(kept) + "&" if kept else ""


def _feedback_page(
    request: Request,
    db: DB,
    *,
    values: dict[str, str],
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    token = form_token(request)
    with db.read() as session:
        tree = categories.tree(session)
    page = render(
        request,
        "feedback.html",
        status_code=status_code,
        tree=tree,
        values=values,
        error=error,
        csrf_token=token,
        lang_query=_lang_query(request),
    )
    return with_form_cookie(page, token)


@router.get("/feedback", response_class=HTMLResponse)
def feedback_form(request: Request, db: DB) -> HTMLResponse:
    """The form; an app opens it with its device fields in the query string."""
    values = {name: (request.query_params.get(name) or "")[:200] for name in PREFILL}
    return _feedback_page(request, db, values=values)


@router.post("/feedback", response_class=HTMLResponse)
def feedback_submit(
    request: Request,
    db: DB,
    settings: AppSettings,
    description: Annotated[str, Form(max_length=20_000)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    category: Annotated[str, Form(max_length=48)] = "",
    subcategory: Annotated[str, Form(max_length=48)] = "",
    title: Annotated[str, Form(max_length=200)] = "",
    contact: Annotated[str, Form(max_length=254)] = "",
    user_name: Annotated[str, Form(max_length=100)] = "",
    user_id: Annotated[str, Form(max_length=128)] = "",
    os: Annotated[str, Form(max_length=64)] = "",
    model: Annotated[str, Form(max_length=64)] = "",
    app_version: Annotated[str, Form(max_length=32)] = "",
    city: Annotated[str, Form(max_length=64)] = "",
    channel: Annotated[str, Form(max_length=16)] = "web",
    order_no: Annotated[str, Form(max_length=64)] = "",
    room_id: Annotated[str, Form(max_length=64)] = "",
    user_token: Annotated[str, Form(max_length=200)] = "",
    files: Annotated[list[UploadFile] | None, File()] = None,
) -> Response:
    t = i18n.translator(i18n.language_of(request))
    # An invalid or stale token (a form left open for days) only means: no proof, no VIP.
    claim = user_claim(settings, user_id or None, user_token or None)
    values = {
        "description": description,
        "category": category,
        "subcategory": subcategory,
        "title": title,
        "contact": contact,
        "user_name": user_name,
        "user_id": user_id,
        "os": os,
        "model": model,
        "app_version": app_version,
        "city": city,
        "channel": channel,
        "order_no": order_no,
        "room_id": room_id,
        "user_token": user_token,
    }
    if not csrf_ok(request, csrf_token):
        return _feedback_page(request, db, values=values, error=t("login.csrf"), status_code=403)
    caller = IntakeCaller.visitor(user_id=user_id or None, ip=client_ip(request), claim=claim)
    links = {k: v for k, v in (("order_no", order_no), ("room_id", room_id)) if v}
    try:
        feedback = FeedbackIn(
            # A channel the form does not know is the web form itself; a known one goes to the
            # policy, which refuses staff channels here exactly as in the API.
            channel=Channel(channel) if channel in _CHANNELS else Channel.WEB,
            description=description,
            title=title or None,
            category=category or None,
            subcategory=subcategory or None,
            contact=contact or None,
            user_name=user_name or None,
            user_id=user_id or None,
            device={"os": os or None, "model": model or None} if (os or model) else None,
            app_version=app_version or None,
            city=city or None,
            links=links or None,
        )

        def store_files(session: Session) -> list[str]:
            return attachments.store_uploads(
                session,
                files=[(f.filename, f.file) for f in files or []],
                root=settings.attachments_dir,
                max_bytes=settings.max_attachment_bytes,
                uploaded_by_id=None,
            )

        with db.write() as session:
            ticket = intake.receive(
                session,
                feedback,
                caller=caller,
                settings=settings,
                limit=limits_of(request).intake,
                files=store_files,
            ).ticket
            number = ticket.number
    except ValidationError as exc:
        reason = validation_text(exc, i18n.language_of(request))
        return _feedback_page(request, db, values=values, error=t("feedback.invalid", reason=reason), status_code=422)
    except RateLimited:
        return _feedback_page(request, db, values=values, error=t("error.rate_limited"), status_code=429)
    except HuiyingError as exc:
        return _feedback_page(
            request,
            db,
            values=values,
            error=t("feedback.invalid", reason=error_text(exc, i18n.language_of(request))),
            status_code=exc.status_code,
        )
    token = portal_token(settings.resolved_secret_key, number)
    done = RedirectResponse(f"/feedback/done?t={token}", status_code=303)
    if claim is not None:
        keep_proofs(done, settings, proofs_of(request, settings).with_user(claim.user_id))
    return done


@router.get("/feedback/done", response_class=HTMLResponse)
def feedback_done(request: Request, settings: AppSettings, t: str = "") -> HTMLResponse:
    number = number_from_token(settings.resolved_secret_key, t)
    link = f"{settings.base_url.rstrip('/')}/portal/t/{t}"
    return render(request, "feedback_done.html", number=number, link=link, token=t, lang_query=f"t={t}&")


@router.get("/portal", response_class=HTMLResponse)
def portal_lookup_form(request: Request) -> HTMLResponse:
    token = form_token(request)
    page = render(request, "portal_lookup.html", csrf_token=token, number="", lang_query="")
    return with_form_cookie(page, token)


@router.post("/portal", response_class=HTMLResponse)
def portal_lookup(
    request: Request,
    db: DB,
    settings: AppSettings,
    # No length limits here: a missing or overlong field is answered on this page, not as JSON.
    number: Annotated[str, Form()] = "",
    contact: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Ticket number plus the contact given at intake opens that ticket's page (and no other:
    knowing someone's phone number proves nothing)."""
    t = i18n.translator(i18n.language_of(request))
    token = form_token(request)
    number = number.strip()[:40]

    def again(message: str, status_code: int) -> HTMLResponse:
        page = render(
            request,
            "portal_lookup.html",
            status_code=status_code,
            csrf_token=token,
            number=number,
            lookup_error=message,
            lang_query="",
        )
        return with_form_cookie(page, token)

    if not csrf_ok(request, csrf_token):
        return again(t("login.csrf"), 403)
    if not number or not contact.strip():
        return again(t("portal.lookup_missing"), 422)
    try:
        limits_of(request).portal.check(ip=client_ip(request), user_id=None)
        if len(contact) > 254:
            raise NotFound("no ticket matches this number and contact")
        with db.read() as session:
            ticket = portal.find_by_number_and_contact(session, number=number, contact=contact)
    except RateLimited:
        return again(t("error.rate_limited"), 429)
    except NotFound:
        return again(t("portal.not_found"), 404)
    return RedirectResponse(f"/portal/t/{portal_token(settings.resolved_secret_key, ticket.number)}", status_code=303)


def _ticket_of_token(session: Session, settings: AppSettings, token: str, *, lock: bool = False) -> Ticket:
    return portal.ticket_of_token(session, settings.resolved_secret_key, token, lock=lock)


@router.get("/portal/t/{token}", response_class=HTMLResponse)
def portal_page(token: str, request: Request, db: DB, settings: AppSettings) -> Response:
    """The user's view: state in plain words, public replies, and what they can do next.

    The link opens this one ticket; the visitor's other tickets are listed only when they proved
    who they are (web/portal_proofs.py), never because this ticket names a user id or contact."""
    redirect = take_user_token(request, settings)
    if redirect is not None:
        return redirect
    proofs = proofs_of(request, settings)
    try:
        limits_of(request).portal.check(ip=client_ip(request), user_id=None)
    except RateLimited:
        return render(
            request,
            "error.html",
            status_code=429,
            message=i18n.translator(i18n.language_of(request))("error.rate_limited"),
        )
    csrf_token = form_token(request)
    with db.read() as session:
        try:
            ticket = _ticket_of_token(session, settings, token)
        except NotFound:
            lookup = render(
                request,
                "portal_lookup.html",
                status_code=404,
                csrf_token=csrf_token,
                number="",
                lookup_error=i18n.translator(i18n.language_of(request))("portal.not_found"),
                lang_query="",
            )
            return with_form_cookie(lookup, csrf_token)
        files = list(
            session.scalars(
                select(Attachment).where(Attachment.ticket_id == ticket.id, Attachment.message_id.is_(None))
            )
        )
        others = [
            (present.ticket_out(o), portal_token(settings.resolved_secret_key, o.number))
            for o in portal.proven_tickets(session, proofs, limit=20, exclude_id=ticket.id)
        ]
        context: dict[str, Any] = {
            "ticket": present.ticket_out(ticket, files=files),
            "messages": [present.message_out(m) for m in portal.public_messages(session, ticket)],
            "others": others,
            "proved": bool(proofs),
            "names": categories.names(session),
        }
    form_ref = secrets.token_hex(16)
    page = render(
        request, "portal.html", token=token, csrf_token=csrf_token, form_ref=form_ref, lang_query="", **context
    )
    return with_form_cookie(page, csrf_token)


def _portal_action(
    request: Request,
    db: DB,
    settings: AppSettings,
    *,
    token: str,
    csrf_token: str,
    notice: str,
    act: Callable[[Session, Ticket, Actor], None],
) -> RedirectResponse:
    """Run one of the user's actions on their ticket and go back to its page with a notice;
    refused without the form's CSRF token, limited per IP like every portal request."""
    back = f"/portal/t/{token}"
    if not csrf_ok(request, csrf_token):
        message = i18n.translator(i18n.language_of(request))("login.csrf")
        return RedirectResponse(f"{back}?{urlencode({'error': message})}", status_code=303)
    try:
        limits_of(request).portal.check(ip=client_ip(request), user_id=None)
        with db.write() as session:
            ticket = _ticket_of_token(session, settings, token, lock=True)
            act(session, ticket, platform_user(ticket.user_id, ip=client_ip(request)))
    except HuiyingError as exc:
        return RedirectResponse(f"{back}?{urlencode({'error': refused(exc)})}", status_code=303)
    return RedirectResponse(f"{back}?notice={notice}", status_code=303)


@router.post("/portal/t/{token}/message")
def portal_message(
    token: str,
    request: Request,
    db: DB,
    settings: AppSettings,
    text: Annotated[str, Form(max_length=20_000)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    # Set once per rendered form: the same form sent twice (a double click, back and resend)
    # adds one message.
    source_ref: Annotated[str, Form(max_length=64)] = "",
    files: Annotated[list[UploadFile] | None, File()] = None,
) -> Response:
    """The user adds information (and files) to their ticket."""

    def act(session: Session, ticket: Ticket, actor: Actor) -> None:
        ids = attachments.store_uploads(
            session,
            files=[(f.filename, f.file) for f in files or []],
            root=settings.attachments_dir,
            max_bytes=settings.max_attachment_bytes,
            uploaded_by_id=None,
        )
        if not has_visible(text) and not ids:
            raise HuiyingError("empty", code="empty")
        portal.add_information(
            session,
            ticket,
            text=text.strip() if has_visible(text) else "(附件 attachment)",
            attachment_ids=ids,
            actor=actor,
            settings=settings,
            source_ref=source_ref.strip() or None,
        )

    return _portal_action(request, db, settings, token=token, csrf_token=csrf_token, notice="sent", act=act)


@router.post("/portal/t/{token}/confirm")
def portal_confirm(
    token: str, request: Request, db: DB, settings: AppSettings, csrf_token: Annotated[str, Form(max_length=200)] = ""
) -> Response:
    """The user agrees the problem is solved."""
    return _portal_action(
        request,
        db,
        settings,
        token=token,
        csrf_token=csrf_token,
        notice="confirmed",
        act=lambda session, ticket, actor: portal.confirm(session, ticket, actor=actor),
    )


@router.post("/portal/t/{token}/reopen")
def portal_reopen(
    token: str,
    request: Request,
    db: DB,
    settings: AppSettings,
    reason: Annotated[str, Form(max_length=5000)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """The user is not satisfied: the ticket goes back to the team with their reason."""
    return _portal_action(
        request,
        db,
        settings,
        token=token,
        csrf_token=csrf_token,
        notice="reopened",
        act=lambda session, ticket, actor: portal.reopen(
            session, ticket, reason=reason, actor=actor, settings=settings
        ),
    )


@router.post("/portal/t/{token}/survey")
def portal_survey(
    token: str,
    request: Request,
    db: DB,
    settings: AppSettings,
    csat: Annotated[str, Form(max_length=16)] = "",
    nps: Annotated[str, Form(max_length=2)] = "",
    comment: Annotated[str, Form(max_length=surveys.COMMENT_CHARS)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """The user's satisfaction answer after resolution (once per ticket); a low one reopens it."""

    def act(session: Session, ticket: Ticket, actor: Actor) -> None:
        given = nps.strip()
        if given and not given.isdigit():
            raise InvalidInput("nps must be 0 to 10", code="invalid_nps")
        score = int(given) if given else None
        surveys.answer(session, ticket, csat=csat, nps=score, comment=clean(comment), actor=actor)

    return _portal_action(request, db, settings, token=token, csrf_token=csrf_token, notice="rated", act=act)


@router.get("/portal/t/{token}/files/{attachment_id}")
def portal_file(token: str, attachment_id: str, db: DB, settings: AppSettings) -> Response:
    """A file of the ticket or of a public message (never of an internal note)."""
    with db.read() as session:
        try:
            ticket = _ticket_of_token(session, settings, token)
        except NotFound:
            return Response(status_code=404)
        row = session.get(Attachment, attachment_id) if len(attachment_id) == 32 else None
        visible = row is not None and row.ticket_id == ticket.id
        if visible and row is not None and row.message_id is not None:
            visible = any(m.id == row.message_id for m in portal.public_messages(session, ticket))
        if not visible or row is None:
            return Response(status_code=404)
        served = attachments.served(row, root=settings.attachments_dir)
    return file_response(served)
