"""The satisfaction page: CSAT and NPS per agent, team, category and channel, for supervisors,
QA and admins. Thin: the figures are surveys.service's; `?days=` chooses the window."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from huiying.accounts import access
from huiying.accounts.access import Permission
from huiying.categories import service as categories
from huiying.errors import Forbidden
from huiying.http.deps import DB
from huiying.kit.clock import utcnow
from huiying.surveys import service as surveys
from huiying.web.auth import Page, render

router = APIRouter(include_in_schema=False)
WINDOWS = (7, 30, 90, 365)


@router.get("/reports/satisfaction", response_class=HTMLResponse)
def satisfaction_page(
    request: Request, db: DB, page: Page, days: Annotated[int, Query(ge=1, le=3650)] = 30
) -> HTMLResponse:
    if not (access.has(page.actor, Permission.TEAM_MANAGE) or access.has(page.actor, Permission.QA_SCORE)):
        raise Forbidden("your role may not open this page")
    with db.read() as session:
        tables = surveys.all_figures(session, since=utcnow() - timedelta(days=days))
        names = categories.names(session)
    return render(
        request, "reports_satisfaction.html", page=page, tables=tables, days=days, windows=WINDOWS, names=names
    )
