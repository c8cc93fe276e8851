"""Admin pages: teams, staff, categories and macros — everything editable without code.
And the auditor's page of the audit log."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from sqlalchemy.orm import Session

from huiying.accounts import access, teams
from huiying.accounts import service as accounts
from huiying.accounts.access import Permission
from huiying.assignment import service as assignment
from huiying.audit import export as audit_export
from huiying.audit import service as audit
from huiying.categories import service as categories
from huiying.db import Database
from huiying.errors import Forbidden, HuiyingError, InvalidInput
from huiying.http import jobs as http_jobs
from huiying.http.deps import DB, PathId
from huiying.jobs import overview as job_overview
from huiying.kit.roles import Role
from huiying.macros import service as macros
from huiying.macros.render import VARIABLES
from huiying.triage import service as triage
from huiying.triage.engine import TARGETS
from huiying.web import admin_alerts, admin_calendar, admin_mail, admin_routing
from huiying.web import notices as web_notices
from huiying.web.auth import Page, StaffPage, render
from huiying.web.forms import CleanFormRoute
from huiying.web.wording import refused

router = APIRouter(include_in_schema=False, route_class=CleanFormRoute)
# Before `/admin/{tab}` below, which would take /admin/routing for a tab of its own.
router.include_router(admin_routing.router)
router.include_router(admin_calendar.router)
router.include_router(admin_alerts.router)
router.include_router(admin_mail.router)
router.include_router(web_notices.router)

TABS = ("teams", "staff", "categories", "macros", "triage", "jobs")


def _require(page: StaffPage, permission: Permission) -> None:
    if not access.has(page.actor, permission):
        raise Forbidden("your role may not open this page")


def _done(tab: str, error: str | None = None) -> RedirectResponse:
    query = urlencode({"error": error}) if error else "notice=done"
    return RedirectResponse(f"/admin/{tab}?{query}", status_code=303)


def _change(db: Database, tab: str, change: Callable[[Session], object]) -> RedirectResponse:
    """Run one admin change in its own transaction, then back to the tab with a notice or the refusal."""
    try:
        with db.write() as session:
            change(session)
    except (HuiyingError, ValueError) as exc:
        refusal = exc if isinstance(exc, HuiyingError) else InvalidInput(str(exc))
        return _done(tab, refused(refusal))
    return _done(tab)


@router.get("/admin")
def admin_home(page: Page) -> RedirectResponse:
    first = "staff" if access.has(page.actor, Permission.STAFF_MANAGE) else "teams"
    return RedirectResponse(f"/admin/{first}", status_code=303)


def _tab_context(session: Session, tab: str) -> dict[str, Any]:
    """What the admin page shows on `tab` (only that tab's lists are read)."""
    return {
        "tab": tab,
        "teams": teams.list_teams(session),
        "staff": accounts.list_users(session) if tab == "staff" else [],
        "roles": list(Role),
        "tree": categories.tree(session, include_inactive=True) if tab == "categories" else [],
        "inactive": {c.slug for c in categories.inactive(session)} if tab == "categories" else set(),
        "macros": macros.list_macros(session, include_inactive=True) if tab == "macros" else [],
        "rules": [(r, rule_form_values(r.body)) for r in triage.list_rules(session)] if tab == "triage" else [],
        "model_versions": triage.list_models(session) if tab == "triage" else [],
        "triage_targets": TARGETS,
        "variables": VARIABLES,
        "top_categories": categories.tree(session),
        "job_summaries": job_overview.summaries(session) if tab == "jobs" else [],
        "dead_jobs": job_overview.dead_jobs(session) if tab == "jobs" else [],
        "short_error": job_overview.short_error,
    }


@router.get("/admin/{tab}", response_class=HTMLResponse)
def admin_tab(tab: str, request: Request, db: DB, page: Page) -> HTMLResponse:
    if tab not in TABS:
        return render(request, "error.html", status_code=404, message=tab, page=page)
    _require(page, Permission.STAFF_MANAGE if tab == "staff" else Permission.CONFIG_MANAGE)
    with db.read() as session:
        context = _tab_context(session, tab)
    return render(request, "admin.html", page=page, **context)


@router.post("/admin/teams")
def create_team(
    db: DB,
    page: Page,
    slug: Annotated[str, Form(max_length=48)],
    name_zh: Annotated[str, Form(max_length=100)],
    name_en: Annotated[str, Form(max_length=100)],
    parent: Annotated[str, Form(max_length=48)] = "",
) -> Response:
    _require(page, Permission.CONFIG_MANAGE)
    return _change(
        db,
        "teams",
        lambda session: teams.create_team(
            session,
            slug=slug.strip(),
            name_zh=name_zh.strip(),
            name_en=name_en.strip(),
            parent=parent or None,
            actor=page.actor,
        ),
    )


@router.post("/admin/teams/{slug}")
def update_team(
    slug: str,
    db: DB,
    page: Page,
    name_zh: Annotated[str, Form(max_length=100)],
    name_en: Annotated[str, Form(max_length=100)],
    active: Annotated[str | None, Form()] = None,
) -> Response:
    _require(page, Permission.CONFIG_MANAGE)
    return _change(
        db,
        "teams",
        lambda session: teams.update_team(
            session,
            teams.team_by_slug(session, slug),
            actor=page.actor,
            name_zh=name_zh.strip(),
            name_en=name_en.strip(),
            active=active == "on",
        ),
    )


def _whole_or_none(value: str) -> int | None:
    """A cap or deadline field: empty is no limit; the service refuses anything under 1."""
    text = value.strip()
    if not text:
        return None
    if not text.lstrip("-").isdigit():
        raise InvalidInput("a whole number, or empty for no limit")
    return int(text)


@router.post("/admin/teams/{slug}/assignment")
def team_assignment(
    slug: str,
    db: DB,
    page: Page,
    assignment_mode: Annotated[str, Form(max_length=32)],
    max_open_per_agent: Annotated[str, Form(max_length=9)] = "",
    accept_within_minutes: Annotated[str, Form(max_length=9)] = "",
) -> Response:
    """The team's assignment mode, cap of open tickets per agent and accept-within minutes."""
    _require(page, Permission.CONFIG_MANAGE)

    def configure(session: Session) -> None:
        changes = {
            "assignment_mode": assignment_mode,
            "max_open_per_agent": _whole_or_none(max_open_per_agent),
            "accept_within_minutes": _whole_or_none(accept_within_minutes),
        }
        assignment.configure_team(session, teams.team_by_slug(session, slug), changes=changes, actor=page.actor)

    return _change(db, "teams", configure)


@router.post("/admin/staff/{email}/skills")
def staff_skills(email: str, db: DB, page: Page, skills: Annotated[str, Form(max_length=2_000)] = "") -> Response:
    """An agent's skills, comma-separated (sub-category slugs, languages zh/en). Admins set
    anyone's; supervisors (who manage teams, not staff) the members of their teams, as the API."""
    _require(page, Permission.TEAM_MANAGE)

    def set_skills(session: Session) -> None:
        user = accounts.user_by_email(session, email)
        if not access.has(page.actor, Permission.CONFIG_MANAGE) and not any(
            t.id in page.actor.team_ids for t in user.teams
        ):
            raise Forbidden(f"{user.email} is not in a team you supervise")
        wanted = [s.strip() for s in skills.replace("，", ",").split(",") if s.strip()]
        assignment.set_skills(session, user, skills=wanted, actor=page.actor)

    return _change(db, "staff", set_skills)


@router.post("/admin/staff")
def create_staff(request: Request, db: DB, page: Page) -> Response:
    _require(page, Permission.STAFF_MANAGE)
    form = request.state.form
    return _change(
        db,
        "staff",
        lambda session: accounts.create_user(
            session,
            email=str(form.get("email", "")),
            password=str(form.get("password", "")),
            role=Role(str(form.get("role", "agent"))),
            display_name=str(form.get("display_name", "")).strip() or None,
            team_slugs=[str(v) for v in form.getlist("teams")],
            actor=page.actor,
        ),
    )


@router.post("/admin/staff/{email}")
def update_staff(email: str, request: Request, db: DB, page: Page) -> Response:
    _require(page, Permission.STAFF_MANAGE)
    form = request.state.form
    active = form.get("active") == "on"
    if not active and email.strip().lower() == page.user.email:
        return _done("staff", "you cannot deactivate your own account")
    response = _change(
        db,
        "staff",
        lambda session: accounts.update_user(
            session,
            accounts.user_by_email(session, email),
            actor=page.actor,
            role=Role(str(form.get("role"))),
            team_slugs=[str(v) for v in form.getlist("teams")],
            active=active,
            display_name=str(form.get("display_name", "")).strip() or None,
            password=str(form.get("password")) if form.get("password") else None,
        ),
    )
    return response


@router.post("/admin/categories")
def create_category(
    db: DB,
    page: Page,
    slug: Annotated[str, Form(max_length=48)],
    name_zh: Annotated[str, Form(max_length=100)],
    name_en: Annotated[str, Form(max_length=100)],
    parent: Annotated[str, Form(max_length=48)] = "",
    default_team: Annotated[str, Form(max_length=48)] = "",
) -> Response:
    _require(page, Permission.CONFIG_MANAGE)
    return _change(
        db,
        "categories",
        lambda session: categories.create(
            session,
            slug=slug.strip(),
            name_zh=name_zh.strip(),
            name_en=name_en.strip(),
            parent=parent or None,
            default_team=default_team or None,
            actor=page.actor,
        ),
    )


@router.post("/admin/categories/{slug}")
def update_category(
    slug: str,
    db: DB,
    page: Page,
    name_zh: Annotated[str, Form(max_length=100)],
    name_en: Annotated[str, Form(max_length=100)],
    parent: Annotated[str, Form(max_length=48)] = "",
    default_team: Annotated[str, Form(max_length=48)] = "",
    active: Annotated[str | None, Form()] = None,
) -> Response:
    _require(page, Permission.CONFIG_MANAGE)
    return _change(
        db,
        "categories",
        lambda session: categories.update(
            session,
            categories.find(session, slug, parent or None),
            actor=page.actor,
            name_zh=name_zh.strip(),
            name_en=name_en.strip(),
            default_team=default_team,
            active=active == "on",
        ),
    )


@router.post("/admin/macros")
def create_macro(
    db: DB,
    page: Page,
    name: Annotated[str, Form(max_length=100)],
    body: Annotated[str, Form(max_length=10_000)],
    language: Annotated[str, Form(pattern="^(zh|en)$")] = "zh",
    category: Annotated[str, Form(max_length=48)] = "",
) -> Response:
    _require(page, Permission.CONFIG_MANAGE)
    return _change(
        db,
        "macros",
        lambda session: macros.create_macro(
            session,
            name=name.strip(),
            body=body,
            language=language,
            category=category or None,
            actor=page.actor,
        ),
    )


@router.post("/admin/macros/{macro_id}")
def update_macro(
    macro_id: PathId,
    db: DB,
    page: Page,
    name: Annotated[str, Form(max_length=100)],
    body: Annotated[str, Form(max_length=10_000)],
    language: Annotated[str, Form(pattern="^(zh|en)$")] = "zh",
    category: Annotated[str, Form(max_length=48)] = "",
    active: Annotated[str | None, Form()] = None,
) -> Response:
    _require(page, Permission.CONFIG_MANAGE)
    return _change(
        db,
        "macros",
        lambda session: macros.update_macro(
            session,
            macros.get_macro(session, macro_id),
            actor=page.actor,
            name=name.strip(),
            body=body,
            language=language,
            category=category,
            active=active == "on",
        ),
    )


def rule_form_values(body: dict[str, Any]) -> dict[str, Any]:
    """A stored rule as the admin form shows it (keyword lists one per line)."""
    lines = {name: "\n".join(body.get(name) or []) for name in ("any_of", "all_of", "none_of", "patterns")}
    category = body.get("category") or ""
    if category and body.get("subcategory"):
        category = f"{category}/{body['subcategory']}"
    return {**body, **lines, "category_value": category, "tags_text": ", ".join(body.get("tags") or [])}


def _rule_from_form(form: Any) -> dict[str, Any]:
    def lines(name: str) -> list[str]:
        return [line.strip() for line in str(form.get(name, "")).splitlines() if line.strip()]

    category, _, subcategory = str(form.get("category", "")).partition("/")
    body: dict[str, Any] = {
        "id": str(form.get("id", "")).strip(),
        "name": str(form.get("name", "")).strip(),
        "enabled": form.get("enabled") == "on",
        "any_of": lines("any_of"),
        "all_of": lines("all_of"),
        "none_of": lines("none_of"),
        "patterns": lines("patterns"),
        "override_model": form.get("override_model") == "on",
        "needs_refinement": form.get("needs_refinement") == "on",
        "tags": [t.strip() for t in str(form.get("tags", "")).replace("，", ",").split(",") if t.strip()],
        "weight": int(str(form.get("weight") or 0)) if str(form.get("weight") or "0").lstrip("-").isdigit() else 0,
    }
    for name, value in (("category", category), ("subcategory", subcategory)):
        if value:
            body[name] = value
    for name in ("priority", "sentiment"):
        if form.get(name):
            body[name] = str(form.get(name))
    return body


@router.post("/admin/triage/rules", response_class=HTMLResponse)
def save_or_test_rule(request: Request, db: DB, page: Page) -> Response:
    """Save a rule, or (the "test" button) try it on recent tickets first and show what it would do."""
    _require(page, Permission.CONFIG_MANAGE)
    form = request.state.form
    body = _rule_from_form(form)
    if form.get("action") == "test":
        try:
            with db.read() as session:
                tried, hits = triage.test_rule(session, body)
                context = _tab_context(session, "triage")
        except HuiyingError as exc:
            return _done("triage", refused(exc))
        test_result = {"tried": tried, "hits": hits}
        return render(
            request, "admin.html", page=page, **context, test_result=test_result, draft=rule_form_values(body)
        )

    def save_or_delete(session: Session) -> None:
        if form.get("action") == "delete":
            triage.delete_rule(session, body["id"], actor=page.actor)
        else:
            triage.save_rule(session, body, actor=page.actor)

    return _change(db, "triage", save_or_delete)


@router.post("/admin/triage/models")
def model_action(request: Request, db: DB, page: Page) -> Response:
    """Activate (or restore) a model version, or queue a retraining from all labels."""
    _require(page, Permission.CONFIG_MANAGE)
    form = request.state.form
    target = str(form.get("target", ""))

    def train_or_activate(session: Session) -> None:
        if form.get("action") == "train":
            triage.queue_training(session, target=target, actor=page.actor)
        else:
            triage.activate(session, target=target, version=int(str(form.get("version", "-1"))), actor=page.actor)

    return _change(db, "triage", train_or_activate)


@router.post("/admin/jobs/{job_id}/retry")
def retry_job(job_id: http_jobs.JobId, db: DB, page: Page) -> Response:
    """Retry a dead job (the dead-letter list on the jobs tab)."""
    _require(page, Permission.CONFIG_MANAGE)
    return _change(db, "jobs", lambda session: http_jobs.retry(session, job_id, actor=page.actor))


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, db: DB, page: Page) -> HTMLResponse:
    """The auditor's view: newest entries, filters, the chain check and an export."""
    _require(page, Permission.AUDIT_READ)
    query = audit.AuditQuery(
        action=(request.query_params.get("action") or None),
        object_id=(request.query_params.get("object_id") or None),
    )
    verification = None
    audit.chain_all(db)
    with db.read() as session:
        entries = audit.search(session, query, before_seq=None, limit=200)
        if request.query_params.get("verify"):
            verification = audit.verify(session)
    return render(
        request,
        "audit.html",
        page=page,
        entries=[audit_export.entry_out(e) for e in entries],
        verification=verification,
        filters=dict(request.query_params),
    )


@router.get("/audit/export.csv")
def audit_csv(db: DB, page: Page) -> StreamingResponse:
    _require(page, Permission.AUDIT_READ)
    audit.record_now(db, actor=page.actor, action="audit.exported", object_type="audit", after={"format": "csv"})
    return StreamingResponse(
        audit_export.rows(db, audit.AuditQuery(), "csv"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="audit-log.csv"'},
    )
