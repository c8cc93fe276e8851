"""The staff-alert robots admin page: each robot with its teams, when it last delivered, what
is waiting for it and its last error (so a broken robot is seen, not silent); forms to add,
change the teams of, and remove a robot. Thin: changes go through `alerts.service` (audited
there); admin.py includes this router ahead of its `/admin/{tab}` catch-all."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from huiying.accounts import access, teams
from huiying.accounts.access import Permission
from huiying.alerts import service as alerts
from huiying.alerts.robots import KINDS
from huiying.alerts.schemas import RobotIn
from huiying.errors import Forbidden, HuiyingError, InvalidInput
from huiying.http.deps import DB, PathId
from huiying.web.auth import Page, StaffPage, render
from huiying.web.forms import CleanFormRoute
from huiying.web.wording import refused

router = APIRouter(include_in_schema=False, route_class=CleanFormRoute)


def _require(page: StaffPage) -> None:
    if not access.has(page.actor, Permission.CONFIG_MANAGE):
        raise Forbidden("your role may not open this page")


def _back(error: HuiyingError | None = None) -> RedirectResponse:
    query = urlencode({"error": refused(error)}) if error else "notice=done"
    return RedirectResponse(f"/admin/alerts?{query}", status_code=303)


@router.get("/admin/alerts", response_class=HTMLResponse)
def alerts_page(request: Request, db: DB, page: Page) -> HTMLResponse:
    _require(page)
    with db.read() as session:
        robots: list[dict[str, Any]] = [
            {
                "id": robot.id,
                "kind": robot.kind,
                "url": alerts.masked_url(alerts.robot_url(robot)),
                "has_secret": robot.secret_encrypted is not None,
                "teams": alerts.team_slugs(session, robot.id),
                "last_sent_at": robot.last_sent_at,
                "last_error": robot.last_error,
                "last_error_at": robot.last_error_at,
                "throttled_until": robot.throttled_until,
                "pending": alerts.pending_count(session, robot.id),
            }
            for robot in alerts.list_robots(session)
        ]
        context: dict[str, Any] = {
            "tab": "alerts",
            "robots": robots,
            "kinds": KINDS,
            "teams": teams.list_teams(session),
        }
    return render(request, "admin_alerts.html", page=page, **context)


@router.post("/admin/alerts")
async def add_robot(request: Request, db: DB, page: Page) -> Response:
    _require(page)
    form = await request.form()
    try:
        body = RobotIn(
            kind=str(form.get("kind") or ""),
            url=str(form.get("url") or "").strip(),
            secret=str(form.get("secret") or "").strip() or None,
            teams=[str(slug) for slug in form.getlist("teams")],
        )
        with db.write() as session:
            alerts.create_robot(
                session, kind=body.kind, url=body.url, secret=body.secret, teams=list(body.teams), actor=page.actor
            )
    except ValidationError as exc:
        return _back(InvalidInput(exc.errors()[0]["msg"]))
    except HuiyingError as exc:
        return _back(exc)
    return _back()


@router.post("/admin/alerts/{robot_id}")
async def change_robot(robot_id: PathId, request: Request, db: DB, page: Page) -> Response:
    """`action=teams` with the `teams` chosen, or `action=delete`."""
    _require(page)
    form = await request.form()
    try:
        with db.write() as session:
            robot = alerts.get_robot(session, robot_id)
            if form.get("action") == "delete":
                alerts.delete_robot(session, robot, actor=page.actor)
            else:
                changes = {"teams": [str(slug) for slug in form.getlist("teams")]}
                alerts.update_robot(session, robot, changes=changes, actor=page.actor)
    except HuiyingError as exc:
        return _back(exc)
    return _back()
