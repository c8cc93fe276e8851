"""Data-subject requests over HTTP (admins with privacy:dsr)."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from huiying.accounts import access
from huiying.accounts.access import Permission
from huiying.errors import InvalidInput
from huiying.http.deps import DB, AppSettings, Staff
from huiying.http.responses import json_model
from huiying.kit.strings import InputModel
from huiying.privacy import dsr

router = APIRouter(prefix="/api/v1/privacy", tags=["privacy"])


class SubjectIn(InputModel):
    user_id: Annotated[str, Field(max_length=128)] | None = None
    contact: Annotated[str, Field(max_length=254)] | None = None

    def check(self) -> None:
        if not (self.user_id or self.contact):
            raise InvalidInput("give the platform user_id, the contact, or both", code="no_subject")


class ErasureOut(BaseModel):
    tickets: int
    messages: int
    files: int  # attachments and quarantined raw mails deleted
    mails: int  # the email channel's records of their mails (received, quarantined)


@router.post("/export")
def export(body: SubjectIn, db: DB, actor: Staff) -> Response:
    """All data about one platform user, as a JSON download."""
    access.require(actor, Permission.PRIVACY_DSR)
    body.check()
    with db.write() as session:
        data = dsr.export(session, user_id=body.user_id, contact=body.contact, actor=actor)
    return Response(
        json.dumps(data, ensure_ascii=False, indent=2),
        media_type="application/json",
        headers={"Content-Disposition": 'attachment; filename="personal-data-export.json"'},
    )


@router.post("/erase", response_model=ErasureOut)
def erase(body: SubjectIn, db: DB, settings: AppSettings, actor: Staff) -> Response:
    """Anonymise everything about one platform user; ticket statistics are kept."""
    access.require(actor, Permission.PRIVACY_DSR)
    body.check()
    with db.write() as session:
        result = dsr.erase(
            session,
            user_id=body.user_id,
            contact=body.contact,
            actor=actor,
            attachments_root=settings.attachments_dir,
            quarantine_root=settings.quarantine_dir,
        )
    out = ErasureOut(tickets=result.tickets, messages=result.messages, files=result.files, mails=result.mails)
    return json_model(out)
