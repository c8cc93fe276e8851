"""The working-calendar admin page: the years loaded, the warning when next year's State Council
notice is missing, the schedules, and an upload form for a notice (CSV `date,kind,name`).
Thin: loading goes through `calendars.service` (audited there); admin.py includes this router
ahead of its `/admin/{tab}` catch-all."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from huiying.accounts import access
from huiying.accounts.access import Permission
from huiying.calendars import service as calendars
from huiying.errors import Forbidden, HuiyingError, InvalidInput
from huiying.http.deps import DB
from huiying.web.auth import Page, StaffPage, render
from huiying.web.forms import CleanFormRoute
from huiying.web.wording import refused

router = APIRouter(include_in_schema=False, route_class=CleanFormRoute)
MAX_NOTICE_BYTES = 64 * 1024


def _require(page: StaffPage) -> None:
    if not access.has(page.actor, Permission.CONFIG_MANAGE):
        raise Forbidden("your role may not open this page")


@router.get("/admin/calendar", response_class=HTMLResponse)
def calendar_page(request: Request, db: DB, page: Page) -> HTMLResponse:
    _require(page)
    with db.read() as session:
        context: dict[str, Any] = {
            "tab": "calendar",
            "years": calendars.years_loaded(session),
            "missing_year": calendars.next_year_missing(session, calendars.today()),
            "schedules": calendars.schedules(session),
            "loaded": request.query_params.get("loaded"),
        }
    return render(request, "admin_calendar.html", page=page, **context)


@router.post("/admin/calendar/notice")
async def upload_notice(request: Request, db: DB, page: Page) -> Response:
    _require(page)
    form = await request.form()
    upload, pasted = form.get("file"), str(form.get("csv") or "")
    try:
        if isinstance(upload, UploadFile) and upload.filename:
            raw = await upload.read(MAX_NOTICE_BYTES + 1)
            if len(raw) > MAX_NOTICE_BYTES:
                raise InvalidInput(f"a notice is at most {MAX_NOTICE_BYTES // 1024} KiB")
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                raise InvalidInput("the notice must be UTF-8") from None
        else:
            text = pasted
        rows = calendars.parse_notice_csv(text)
        with db.write() as session:
            summary = calendars.load_notice(session, rows, actor=page.actor)
    except HuiyingError as exc:
        return RedirectResponse(f"/admin/calendar?{urlencode({'error': refused(exc)})}", status_code=303)
    done = f"calendar:{','.join(map(str, summary.years))}:{summary.added}:{summary.changed}:{summary.removed}"
    return RedirectResponse(f"/admin/calendar?{urlencode({'loaded': done})}", status_code=303)
