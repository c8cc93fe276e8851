"""Web login: server-side sessions, CSRF on every form, throttling and lock-out.

Pages get the logged-in staff member from `page_staff`; a request without a valid session is
sent to /login. Every state-changing request to the web routes must carry the session's CSRF
token (form field `csrf_token` or header `X-CSRF-Token`, which the HTMX pages send).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from huiying.accounts import access
from huiying.accounts import service as accounts
from huiying.accounts.models import User
from huiying.errors import RateLimited, Unauthenticated
from huiying.http.deps import DB, AppSettings, client_ip
from huiying.http.ratelimit import limits_of
from huiying.kit.actor import Actor, platform_user
from huiying.web import i18n, sessions
from huiying.web.forms import CleanFormRoute
from huiying.web.templating import templates

router = APIRouter(include_in_schema=False, route_class=CleanFormRoute)

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class LoginRequired(Exception):
    """No valid session: answered with a redirect to /login (see `install`)."""

    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


class CsrfFailed(Exception):
    """A state-changing request without the right CSRF token: a 403 page."""


@dataclass(frozen=True)
class StaffPage:
    actor: Actor
    user: User
    csrf_token: str


def _secure(settings: AppSettings) -> bool:
    return settings.base_url.startswith("https://")


def safe_next(value: str | None) -> str:
    """Only local paths: `//evil.example` or `https://…` would be an open redirect."""
    if value and value.startswith("/") and not value.startswith(("//", "/\\")):
        return value
    return "/"


# The staff pages and what a role needs to open them, in the order a role is led to them.
_FIRST_PAGES = (
    ("/tickets", frozenset({access.Permission.TICKET_READ})),
    ("/audit", frozenset({access.Permission.AUDIT_READ})),
    ("/admin", frozenset({access.Permission.CONFIG_MANAGE, access.Permission.STAFF_MANAGE})),
)


def landing_page(permissions: frozenset[access.Permission]) -> str:
    """The page a role starts on: the first it may open (an auditor's is the audit log)."""
    for path, needs in _FIRST_PAGES:
        if permissions & needs:
            return path
    return "/login"


def _may_open(permissions: frozenset[access.Permission], target: str) -> bool:
    path = target.split("?", 1)[0]
    for prefix, needs in _FIRST_PAGES:
        if path == prefix or path.startswith(prefix + "/"):
            return bool(permissions & needs)
    return path != "/"


async def page_staff(request: Request, db: DB) -> StaffPage:
    """The staff member of this browser session; checks CSRF on state-changing requests."""
    page = await run_in_threadpool(_load_page, db, request.cookies.get(sessions.COOKIE), client_ip(request))
    if page is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target)
    if request.method in UNSAFE_METHODS:
        # Parsed once here; Starlette caches it, so File()/Form() parameters reuse it.
        form = await request.form()
        request.state.form = form
        given = request.headers.get("X-CSRF-Token")
        if given is None:
            value = form.get("csrf_token")
            given = value if isinstance(value, str) else None
        if not sessions.csrf_matches(page.csrf_token, given):
            raise CsrfFailed()
    return page


def _load_page(db: DB, cookie: str | None, ip: str | None) -> StaffPage | None:
    with db.read() as session:
        row = sessions.find(session, cookie)
        if row is None:
            return None
        page = StaffPage(
            actor=accounts.actor_for(session, row.user, ip=ip),
            user=row.user,
            csrf_token=row.csrf_token,
        )
        stale = sessions.needs_touch(row)
    if stale and cookie:
        with db.write() as session:
            sessions.touch(session, cookie)
    return page


Page = Annotated[StaffPage, Depends(page_staff)]


def render(request: Request, name: str, *, status_code: int = 200, **context: object) -> HTMLResponse:
    """A page in the visitor's language, with the platform's time zone and any notice."""
    language = i18n.language_of(request)
    common = {
        "lang": language,
        "t": i18n.translator(language),
        "tz": request.app.state.settings.tz,
        "notice": request.query_params.get("notice"),
        "error": request.query_params.get("error"),
        "path": request.url.path,
        "page_permissions": set(),
    }
    page = context.get("page")
    if isinstance(page, StaffPage):
        common["page_permissions"] = {p.value for p in access.permissions_of(page.actor)}
    response = templates.TemplateResponse(request, name, {**common, **context}, status_code=status_code)
    if request.query_params.get("lang") in i18n.LANGUAGES:
        response.set_cookie(i18n.COOKIE, language, max_age=365 * 86400, samesite="lax")
    return response


def _login_page(
    request: Request,
    settings: AppSettings,
    *,
    status_code: int = 200,
    error: str | None = None,
    email: str = "",
    next_url: str = "/",
) -> HTMLResponse:
    token = secrets.token_urlsafe(32)
    response = render(
        request,
        "login.html",
        status_code=status_code,
        error=error,
        email=email,
        csrf_token=token,
        next_url=next_url,
    )
    response.set_cookie(
        sessions.LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=_secure(settings),
        max_age=3600,
    )
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, settings: AppSettings, next: str | None = None) -> HTMLResponse:
    return _login_page(request, settings, next_url=safe_next(next))


@router.post("/login", response_class=HTMLResponse)
def login_submit(
    request: Request,
    db: DB,
    settings: AppSettings,
    email: Annotated[str, Form(max_length=254)],
    password: Annotated[str, Form(max_length=1024)],
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    t = i18n.translator(i18n.language_of(request))
    target = safe_next(next)
    if not sessions.csrf_matches(request.cookies.get(sessions.LOGIN_CSRF_COOKIE), csrf_token):
        return _login_page(request, settings, status_code=403, error=t("login.csrf"), email=email, next_url=target)
    caller = platform_user(None, ip=client_ip(request))
    try:
        limits_of(request).login.check(ip=caller.ip, email=email)
        with db.write() as session:
            user = accounts.authenticate(session, email=email, password=password, actor=caller)
            cookie, _ = sessions.start(
                session,
                user=user,
                ttl=timedelta(hours=settings.session_ttl_hours),
                ip=caller.ip,
                user_agent=request.headers.get("user-agent"),
            )
            permissions = access.permissions_of(accounts.actor_for(session, user, ip=caller.ip))
    except RateLimited as exc:
        key = "login.locked" if exc.code == "account_locked" else "login.throttled"
        page = _login_page(request, settings, status_code=429, error=t(key), email=email, next_url=target)
        page.headers["Retry-After"] = str(exc.retry_after)
        return page
    except Unauthenticated:
        with db.write() as session:
            accounts.note_failed_login(session, email=email, actor=caller)
        return _login_page(
            request,
            settings,
            status_code=401,
            error=t("login.failed"),
            email=email,
            next_url=target,
        )
    # A page the role may not open (the workspace for an auditor, say) would greet it with a 403.
    if not _may_open(permissions, target):
        target = landing_page(permissions)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        sessions.COOKIE,
        cookie,
        httponly=True,
        samesite="lax",
        secure=_secure(settings),
        max_age=settings.session_ttl_hours * 3600,
    )
    response.delete_cookie(sessions.LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
def logout(request: Request, db: DB, page: Page) -> Response:
    with db.write() as session:
        sessions.end(session, request.cookies.get(sessions.COOKIE))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(sessions.COOKIE)
    return response


@router.get("/")
async def home(request: Request, db: DB) -> RedirectResponse:
    """The logged-in role's first page, or the login form."""
    cookie = request.cookies.get(sessions.COOKIE)
    page = await run_in_threadpool(_load_page, db, cookie, client_ip(request)) if cookie else None
    if page is None:
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse(landing_page(access.permissions_of(page.actor)), status_code=303)


async def _on_login_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    if request.headers.get("HX-Request"):
        # HTMX follows redirects inside the page; ask it to load the login page instead.
        return Response(status_code=401, headers={"HX-Redirect": "/login"})
    return RedirectResponse(f"/login?next={quote(exc.next_url, safe='/')}", status_code=303)


async def _on_csrf_failed(request: Request, exc: Exception) -> Response:
    t = i18n.translator(i18n.language_of(request))
    return render(request, "error.html", status_code=403, message=t("error.csrf"))


def install(app: FastAPI) -> None:
    app.add_exception_handler(LoginRequired, _on_login_required)
    app.add_exception_handler(CsrfFailed, _on_csrf_failed)
