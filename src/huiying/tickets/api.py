"""HTTP endpoints of tickets (CONTRACT.md). Thin: parse, call the service, present."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Annotated, TypeVar

from fastapi import APIRouter, File, Header, Query, Request, Response, UploadFile
from fastapi.responses import FileResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from huiying.accounts import access
from huiying.accounts.access import Permission
from huiying.accounts.models import User
from huiying.audit import service as audit
from huiying.channels import delivery
from huiying.channels.schemas import Deliveries, delivery_out
from huiying.config import Settings
from huiying.errors import Forbidden, InvalidInput, NotFound
from huiying.http.deps import DB, AppSettings, Caller, Staff
from huiying.http.ratelimit import intake_limits
from huiying.http.responses import file_response, json_data, json_model, json_models
from huiying.kit.actor import Actor
from huiying.kit.clock import utcnow
from huiying.portal import user_token as user_tokens
from huiying.portal.links import portal_url
from huiying.sla import escalation
from huiying.tickets import attachments, intake, present, repository, service
from huiying.tickets.access import get_ticket_for, get_tickets_for
from huiying.tickets.enums import Priority, Status
from huiying.tickets.intake_policy import IntakeCaller
from huiying.tickets.models import Attachment, Ticket
from huiying.tickets.repository import TicketQuery
from huiying.tickets.schemas import (
    AttachmentOut,
    EscalateIn,
    FeedbackCreated,
    FeedbackIn,
    MergeIn,
    MessageOut,
    ReplyIn,
    StatusIn,
    TicketList,
    TicketOut,
    TicketPatch,
    Timeline,
)

router = APIRouter(prefix="/api/v1", tags=["tickets"])

_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


def _check_idempotency_key(value: str | None) -> str | None:
    if value is not None and not _IDEMPOTENCY_KEY.match(value):
        raise InvalidInput(
            "Idempotency-Key must be 1 to 255 visible ASCII characters (a UUID is ideal)",
            code="invalid_idempotency_key",
        )
    return value


@router.post("/feedback", status_code=201, response_model=FeedbackCreated, tags=["intake"])
def submit_feedback(
    feedback: FeedbackIn,
    request: Request,
    db: DB,
    settings: AppSettings,
    caller: Caller,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
    user_token: Annotated[str | None, Header(alias="X-Huiying-User-Token", max_length=200)] = None,
) -> Response:
    """Public intake: one ticket per piece of feedback; retries with the same key are safe.

    `X-Huiying-User-Token` is the platform's signed token for `user_id` (README, "The portal"
    section); with its VIP flag the ticket is VIP."""
    key = _check_idempotency_key(idempotency_key)
    claim = None
    if user_token is not None:
        claim = user_tokens.verify(
            settings.platform_user_secret, feedback.user_id, user_token, now=utcnow().timestamp()
        )
        if claim is None:
            raise Forbidden(
                "X-Huiying-User-Token is not valid for this user_id: wrong signature, expired, "
                "or HUIYING_PLATFORM_USER_SECRET is not set",
                code="invalid_user_token",
            )
    who = IntakeCaller.of_actor(caller, claim=claim)
    with db.write() as session:
        result = intake.receive(
            session, feedback, caller=who, settings=settings, limit=intake_limits(request), idempotency_key=key
        )
        ticket = result.ticket
        answer = FeedbackCreated(
            number=ticket.number,
            status=Status(ticket.status),
            created_at=ticket.created_at,
            portal_url=portal_url(settings.base_url, settings.resolved_secret_key, ticket.number),
        )
    headers = None if result.created else {"Idempotent-Replayed": "true"}
    return json_model(answer, status_code=201, headers=headers)


@router.post("/attachments", status_code=201, response_model=AttachmentOut, tags=["intake"])
def upload_attachment(
    file: Annotated[UploadFile, File(description="a screenshot, recording or document")],
    request: Request,
    db: DB,
    settings: AppSettings,
    caller: Caller,
) -> Response:
    """Upload one file; pass its id in `attachments` of feedback or a reply."""
    if not caller.is_staff:
        intake_limits(request).check(ip=caller.ip, user_id=None)
    with db.write() as session:
        stored = attachments.store_upload(
            session,
            source=file.file,
            filename=file.filename,
            root=settings.attachments_dir,
            max_bytes=settings.max_attachment_bytes,
            uploaded_by_id=caller.staff_id,
        )
        return json_model(present.attachment_out(stored), status_code=201)


@router.get("/attachments/{attachment_id}", response_class=FileResponse)
def download_attachment(attachment_id: str, db: DB, settings: AppSettings, actor: Staff) -> FileResponse:
    """The file, typed from its content; anything that is not an image or media is a download."""
    with db.read() as session:
        row = session.get(Attachment, attachment_id) if re.fullmatch(r"[0-9a-f]{32}", attachment_id) else None
        access.require(actor, Permission.TICKET_READ)
        ticket = session.get(Ticket, row.ticket_id) if row and row.ticket_id else None
        if row is None or ticket is None or not access.can_see_team(actor, ticket.team_id):
            raise NotFound("no such attachment", code="unknown_attachment")
        file = attachments.served(row, root=settings.attachments_dir)
    return file_response(file, cache=True)


def _split(values: list[str] | None) -> list[str]:
    return [part.strip() for value in values or [] for part in value.split(",") if part.strip()]


E = TypeVar("E", Status, Priority)


def _parse_enum_list(values: list[str] | None, enum: type[E], name: str) -> list[E] | None:
    parts = _split(values)
    if not parts:
        return None
    allowed = [member.value for member in enum]
    unknown = [p for p in parts if p not in allowed]
    if unknown:
        raise InvalidInput(
            f"unknown {name} {', '.join(unknown)}; allowed: {', '.join(allowed)}",
            code="invalid_filter",
            details={"field": name, "allowed": allowed},
        )
    return [enum(p) for p in parts]


def _parse_time(value: str | None, name: str, settings: Settings) -> datetime | None:
    """An ISO date or date-time; without an offset it is read in the install's time zone."""
    if not value:
        return None
    try:
        parsed = (
            datetime.combine(date.fromisoformat(value), time()) if len(value) == 10 else datetime.fromisoformat(value)
        )
    except ValueError as exc:
        raise InvalidInput(
            f"{name} must be an ISO 8601 date or date-time, e.g. 2026-11-23T09:00:00+08:00",
            code="invalid_filter",
        ) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=settings.tz)


@router.get("/tickets", response_model=TicketList)
def list_tickets(
    db: DB,
    settings: AppSettings,
    actor: Staff,
    status: Annotated[list[str] | None, Query(description="comma-separated or repeated")] = None,
    category: str | None = None,
    subcategory: str | None = None,
    priority: Annotated[list[str] | None, Query()] = None,
    team: str | None = None,
    assignee: Annotated[str | None, Query(description="an email, `me` or `none`")] = None,
    channel: str | None = None,
    user_id: str | None = None,
    tag: str | None = None,
    vip: bool | None = None,
    needs_refinement: bool | None = None,
    q: Annotated[str | None, Query(max_length=200, description="full text, Chinese or English")] = None,
    sla: Annotated[str | None, Query(pattern="^(due_soon|breached)$")] = None,
    created_from: str | None = None,
    created_to: str | None = None,
    sort: Annotated[str, Query(pattern="^(-created|created|priority|due)$")] = "-created",
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=repository.MAX_LIMIT)] = 50,
) -> Response:
    """Tickets matching every given filter, newest first unless `sort` says otherwise."""
    access.require(actor, Permission.TICKET_READ)
    if assignee == "me":
        assignee = None if actor.staff_id is None else _email_of(db, actor.staff_id)
    query = TicketQuery(
        status=_parse_enum_list(status, Status, "status"),
        category=category,
        subcategory=subcategory,
        priority=_parse_enum_list(priority, Priority, "priority"),
        team=team,
        assignee=assignee,
        channel=channel,
        user_id=user_id,
        tag=tag,
        vip=vip,
        needs_refinement=needs_refinement,
        q=q,
        sla=sla,
        created_from=_parse_time(created_from, "created_from", settings),
        created_to=_parse_time(created_to, "created_to", settings),
        sort=sort,
        due_soon_minutes=settings.due_soon_minutes,
        visible_team_ids=access.visible_team_ids(actor),
    )
    # Lists are masked for every reader: personal data is shown (and its view audited) one
    # ticket at a time, where it is needed, not fifty at a time.
    # Rows, not entities, and plain data, not models: the JSON of TicketList all the same.
    with db.read() as session:
        page = repository.list_page(session, query, cursor=cursor, limit=limit)
    items = [present.list_item(row) for row in page.rows]
    return json_data({"items": items, "next_cursor": page.next_cursor})


def _email_of(db: DB, staff_id: int) -> str:
    with db.read() as session:
        return session.scalars(select(User.email).where(User.id == staff_id)).one()


def _files(session: Session, ticket_id: int) -> list[Attachment]:
    """Files that came with the ticket itself (those of messages are listed with them)."""
    statement = select(Attachment).where(Attachment.ticket_id == ticket_id, Attachment.message_id.is_(None))
    return list(session.scalars(statement.order_by(Attachment.created_at)))


def _audit_pii_view(db: DB, actor: Actor, numbers: list[str]) -> None:
    """Personal data was shown unmasked: that view goes into the audit log."""
    audit.record_now(
        db,
        actor=actor,
        action="pii.viewed",
        object_type="ticket",
        object_id=numbers[0] if len(numbers) == 1 else None,
        after={"tickets": numbers},
    )


def _ticket_answer(db: DB, session: Session, actor: Actor, ticket: Ticket) -> Response:
    reveal = access.has(actor, Permission.PII_VIEW)
    answer = json_model(present.ticket_out(ticket, reveal_pii=reveal, files=_files(session, ticket.id)))
    if reveal:
        _audit_pii_view(db, actor, [ticket.number])
    return answer


@router.get("/tickets/{number}", response_model=TicketOut)
def get_ticket(number: str, db: DB, actor: Staff) -> Response:
    with db.read() as session:
        ticket = get_ticket_for(session, actor, number)
        return _ticket_answer(db, session, actor, ticket)


@router.patch("/tickets/{number}", response_model=TicketOut)
def patch_ticket(number: str, patch: TicketPatch, db: DB, actor: Staff) -> Response:
    """Change category, subcategory, priority, team, assignee, tags, title or VIP."""
    with db.write() as session:
        ticket = get_ticket_for(session, actor, number, permission=Permission.TICKET_WRITE)
        service.update_ticket(session, ticket, patch=patch.model_dump(exclude_unset=True), actor=actor)
        session.flush()
    with db.read() as session:
        return _ticket_answer(db, session, actor, repository.get_by_number(session, ticket.number))


@router.post("/tickets/{number}/status", response_model=TicketOut)
def change_status(number: str, body: StatusIn, db: DB, actor: Staff) -> Response:
    """Move the ticket through the status flow; an illegal move is a 409 naming the allowed ones."""
    with db.write() as session:
        ticket = get_ticket_for(session, actor, number, permission=Permission.TICKET_WRITE)
        service.change_status(session, ticket, status=body.status, actor=actor, note=body.note)
    with db.read() as session:
        return _ticket_answer(db, session, actor, repository.get_by_number(session, ticket.number))


@router.post("/tickets/{number}/accept", response_model=TicketOut)
def accept(number: str, db: DB, actor: Staff) -> Response:
    """The assignee confirms receipt (确认接收). 409 for anyone else; the assignee again gets 200
    and the first `accepted_at` (idempotent: a retried tap never fails)."""
    with db.write() as session:
        ticket = get_ticket_for(session, actor, number, permission=Permission.TICKET_WRITE)
        service.accept(session, ticket, actor=actor)
    with db.read() as session:
        return _ticket_answer(db, session, actor, repository.get_by_number(session, ticket.number))


@router.post("/tickets/{number}/escalate", response_model=TicketOut)
def escalate(number: str, body: EscalateIn, db: DB, actor: Staff) -> Response:
    """One level up (first line → senior → supervisor, or `team`: a specialist group), the reason
    on the timeline; `major_incident` escalates at once across teams."""
    with db.write() as session:
        ticket = get_ticket_for(session, actor, number, permission=Permission.TICKET_WRITE)
        escalation.escalate(
            session, ticket, reason=body.reason, actor=actor, team_slug=body.team, major_incident=body.major_incident
        )
    with db.read() as session:
        return _ticket_answer(db, session, actor, repository.get_by_number(session, ticket.number))


@router.post("/tickets/{number}/replies", status_code=201, response_model=MessageOut)
def reply(number: str, body: ReplyIn, db: DB, settings: AppSettings, actor: Staff) -> Response:
    """A public reply (sent through the ticket's channel) or, with `internal`, a note."""
    with db.write() as session:
        ticket = get_ticket_for(session, actor, number, permission=Permission.TICKET_WRITE)
        message = service.add_reply(
            session,
            ticket,
            body=body.body,
            internal=body.internal,
            actor=actor,
            settings=settings,
            attachment_ids=body.attachments,
        )
        # The author sees their own words as written.
        return json_model(present.message_out(message, reveal_pii=True), status_code=201)


@router.get("/tickets/{number}/messages", response_model=list[MessageOut])
def list_messages(number: str, db: DB, actor: Staff) -> Response:
    reveal = access.has(actor, Permission.PII_VIEW)
    with db.read() as session:
        ticket = get_ticket_for(session, actor, number)
        rows = repository.messages(session, ticket, include_internal=True)
        answer = json_models([present.message_out(m, reveal_pii=reveal) for m in rows], MessageOut)
    if reveal and rows:
        _audit_pii_view(db, actor, [ticket.number])
    return answer


@router.get("/tickets/{number}/timeline", response_model=Timeline)
def timeline(number: str, db: DB, actor: Staff) -> Response:
    """Every event of the ticket (and of tickets merged into it): who, what, when."""
    reveal = access.has(actor, Permission.PII_VIEW)
    with db.read() as session:
        ticket = get_ticket_for(session, actor, number)
        events = [present.event_out(e, n, reveal_pii=reveal) for e, n in repository.timeline(session, ticket)]
        return json_model(Timeline(number=ticket.number, events=events))


@router.get("/tickets/{number}/deliveries", response_model=Deliveries)
def list_deliveries(number: str, db: DB, actor: Staff) -> Response:
    """Every reply sent or to be sent for the ticket, per channel, and what became of it."""
    with db.read() as session:
        ticket = get_ticket_for(session, actor, number)
        rows = delivery.for_ticket(session, ticket)
        return json_model(Deliveries(items=[delivery_out(row) for row in rows]))


@router.get("/tickets/{number}/attachments", response_model=list[AttachmentOut])
def list_attachments(number: str, db: DB, actor: Staff) -> Response:
    with db.read() as session:
        ticket = get_ticket_for(session, actor, number)
        family = repository.merged_family(session, ticket)
        rows = session.scalars(
            select(Attachment).where(Attachment.ticket_id.in_(family)).order_by(Attachment.created_at)
        )
        return json_models([present.attachment_out(a) for a in rows], AttachmentOut)


@router.post("/tickets/{number}/merge", response_model=TicketOut)
def merge(number: str, body: MergeIn, db: DB, actor: Staff) -> Response:
    """Merge this ticket into `into`; answers the ticket it was merged into."""
    with db.write() as session:
        source, target = get_tickets_for(session, actor, [number, body.into], permission=Permission.TICKET_MERGE)
        service.merge(session, source, into=target, actor=actor)
    with db.read() as session:
        return _ticket_answer(db, session, actor, repository.get_by_number(session, target.number))
