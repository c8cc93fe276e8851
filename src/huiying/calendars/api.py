"""The working calendar for admins: what is loaded, and loading a year of the State Council's notice."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel

from huiying.accounts import access
from huiying.accounts.access import Permission
from huiying.calendars import service
from huiying.errors import InvalidInput, PayloadTooLarge
from huiying.http.deps import DB, Staff

router = APIRouter(prefix="/api/v1/calendars", tags=["calendars"])
MAX_BODY = 64 * 1024


class ScheduleOut(BaseModel):
    slug: str
    name_zh: str
    name_en: str
    tz: str
    hours: list[list[str]]
    always_open: bool


class CalendarsOut(BaseModel):
    schedules: list[ScheduleOut]
    years: list[int]
    # The year whose notice is due and not loaded (from 1 November: next year), or null.
    missing_year: int | None
    warning_zh: str | None
    warning_en: str | None


class NoticeOut(BaseModel):
    years: list[int]
    added: int
    changed: int
    removed: int
    changes: list[str]


def warning(year: int | None) -> tuple[str | None, str | None]:
    """The admin-facing words for a missing year (None: nothing to say)."""
    if year is None:
        return None, None
    return (
        f"{year} 年的节假日安排尚未导入：该年的 SLA 到期时间无法计算。",
        f"The {year} holiday notice is not loaded: SLA due times in {year} cannot be computed.",
    )


@router.get("", response_model=CalendarsOut)
def overview(db: DB, actor: Staff) -> CalendarsOut:
    access.require(actor, Permission.CONFIG_MANAGE)
    with db.read() as session:
        missing = service.next_year_missing(session, service.today())
        zh, en = warning(missing)
        return CalendarsOut(
            schedules=[
                ScheduleOut(
                    slug=s.slug,
                    name_zh=s.name_zh,
                    name_en=s.name_en,
                    tz=s.tz,
                    hours=[[str(a), str(b)] for a, b in s.hours or ()],
                    always_open=s.always_open,
                )
                for s in service.schedules(session)
            ],
            years=service.years_loaded(session),
            missing_year=missing,
            warning_zh=zh,
            warning_en=en,
        )


@router.post(
    "/notice",
    response_model=NoticeOut,
    openapi_extra={
        "requestBody": {
            "content": {
                "text/csv": {"schema": {"type": "string"}, "example": "date,kind,name\n2027-02-06,rest,春节\n"},
                "application/json": {
                    "schema": {
                        "type": "object",
                        "properties": {"rows": {"type": "array", "items": {"type": "object"}}},
                    }
                },
            },
            "required": True,
        }
    },
)
async def load_notice(request: Request, db: DB, actor: Staff) -> NoticeOut:
    """A year of the State Council's notice: CSV `date,kind,name` (text/csv) or JSON
    `{rows: [{date, kind, name}]}`. The rows replace the calendar of each year they cover."""
    access.require(actor, Permission.CONFIG_MANAGE)
    body = await request.body()
    if len(body) > MAX_BODY:
        raise PayloadTooLarge(f"a notice is at most {MAX_BODY // 1024} KiB")
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("the notice must be UTF-8") from None
    if request.headers.get("content-type", "").split(";")[0].strip() == "application/json":
        rows = service.parse_rows(_json_rows(text))
    else:
        rows = service.parse_notice_csv(text)
    with db.write() as session:
        summary = service.load_notice(session, rows, actor=actor)
    return NoticeOut(
        years=summary.years,
        added=summary.added,
        changed=summary.changed,
        removed=summary.removed,
        changes=summary.lines,
    )


def _json_rows(text: str) -> list[dict[str, Any]]:
    try:
        data = json.loads(text)
    except ValueError:
        raise InvalidInput("the body is not valid JSON") from None
    rows = data.get("rows") if isinstance(data, dict) else data
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise InvalidInput('expected {"rows": [{"date": "YYYY-MM-DD", "kind": "rest|workday", "name": "…"}]}')
    return rows
