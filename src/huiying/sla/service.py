"""The SLA clock on tickets: due times at intake, the pause while pending, recomputing on a
priority or category change, the next-response target after a user's follow-up; and the policy
table admins edit. A reaction to ticket events: tickets knows nothing of it, and every change
goes through `tickets.service.set_due_times` (recorded as events)."""

from __future__ import annotations

import threading
import time
import weakref
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, inspect, select
from sqlalchemy.orm import Session

from huiying import events
from huiying.accounts.models import Team, User
from huiying.alerts.service import alert_staff
from huiying.audit import service as audit
from huiying.calendars.business_time import MissingCalendarData
from huiying.errors import Conflict, InvalidInput, NotFound
from huiying.kit.actor import SYSTEM, Actor
from huiying.kit.clock import utcnow
from huiying.kit.roles import Role
from huiying.sla import due as arithmetic
from huiying.sla.clock import PAUSED_STATUSES
from huiying.sla.models import SlaPolicyRow
from huiying.sla.policies import DEFAULT_POLICIES, FALLBACK, ROUND_THE_CLOCK, Policy, TicketFacts, by_slug, choose
from huiying.tickets import intake
from huiying.tickets import service as tickets
from huiying.tickets.models import Ticket, TicketEvent

REFRESH_SECONDS = 5.0
# Fields whose change can change the policy (and so the targets).
POLICY_INPUTS = frozenset({"priority", "category", "subcategory", "vip", "special_group"})
POLICY_FIELDS = (
    "name_zh", "name_en", "priority", "category", "subcategory", "group", "first_response_minutes",
    "next_response_minutes", "resolution_minutes", "calendar", "position", "active",
)  # fmt: skip


# --- the policy table --------------------------------------------------------------------------


def _policy(row: SlaPolicyRow) -> Policy:
    return Policy(
        slug=row.slug,
        name_zh=row.name_zh,
        name_en=row.name_en,
        first_response_minutes=row.first_response_minutes,
        resolution_minutes=row.resolution_minutes,
        next_response_minutes=row.next_response_minutes,
        calendar=row.calendar,
        priority=row.priority,
        category=row.category,
        subcategory=row.subcategory,
        group=row.group,
        position=row.position,
        active=row.active,
    )


@dataclass
class _Cached:
    stamp: tuple[Any, ...]
    policies: tuple[Policy, ...]
    checked: float


# Per database, re-read when the table changed (checked every few seconds): intake matches a
# policy on every create and the table changes a few times a year.
_cache: weakref.WeakKeyDictionary[Engine, _Cached] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def active_policies(session: Session) -> tuple[Policy, ...]:
    """Every policy (active or not), as this process last read them."""
    engine = session.get_bind().engine
    cached = _cache.get(engine)
    if cached is not None and time.monotonic() - cached.checked < REFRESH_SECONDS:
        return cached.policies
    stamp = tuple(session.execute(select(func.count(), func.max(SlaPolicyRow.updated_at))).one())
    with _lock:
        cached = _cache.get(engine)
        if cached is None or cached.stamp != stamp:
            rows = session.scalars(select(SlaPolicyRow).order_by(SlaPolicyRow.position, SlaPolicyRow.id))
            cached = _Cached(stamp, tuple(_policy(r) for r in rows), 0.0)
            _cache[engine] = cached
        cached.checked = time.monotonic()
    return cached.policies


def forget_cache(session: Session) -> None:
    _cache.pop(session.get_bind().engine, None)


def ensure_defaults(session: Session) -> int:
    """Seed SPEC.md §4's policies into an empty table; returns how many were added."""
    if session.scalar(select(SlaPolicyRow.id).limit(1)) is not None:
        return 0
    now = utcnow()
    for policy in DEFAULT_POLICIES:
        session.add(SlaPolicyRow(slug=policy.slug, updated_at=now, **_values(policy)))
    session.flush()
    forget_cache(session)
    return len(DEFAULT_POLICIES)


def _values(policy: Policy) -> dict[str, Any]:
    return {name: getattr(policy, name) for name in POLICY_FIELDS}


def list_policies(session: Session) -> list[SlaPolicyRow]:
    return list(session.scalars(select(SlaPolicyRow).order_by(SlaPolicyRow.position, SlaPolicyRow.id)))


def get_policy(session: Session, slug: str) -> SlaPolicyRow:
    row = session.scalar(select(SlaPolicyRow).where(SlaPolicyRow.slug == slug))
    if row is None:
        raise NotFound(f"no SLA policy {slug!r}", code="unknown_sla_policy")
    return row


def _check(values: dict[str, Any]) -> None:
    for name in ("first_response_minutes", "resolution_minutes"):
        if values.get(name) is None or values[name] <= 0:
            raise InvalidInput(f"{name} must be a positive number of minutes", code="invalid_sla_target")
    if values.get("next_response_minutes") is not None and values["next_response_minutes"] <= 0:
        raise InvalidInput("next_response_minutes must be positive (or null)", code="invalid_sla_target")
    if values["first_response_minutes"] > values["resolution_minutes"]:
        raise InvalidInput("the first response cannot be due after the resolution", code="invalid_sla_target")


def create_policy(session: Session, *, slug: str, values: dict[str, Any], actor: Actor) -> SlaPolicyRow:
    """Add a policy (audited); its slug must be new."""
    if session.scalar(select(SlaPolicyRow.id).where(SlaPolicyRow.slug == slug)) is not None:
        raise Conflict(f"an SLA policy {slug!r} exists already", code="sla_policy_exists")
    values = {"position": 0, "active": True, "next_response_minutes": None, "calendar": None, **values}
    _check(values)
    row = SlaPolicyRow(slug=slug, updated_at=utcnow(), **values)
    session.add(row)
    session.flush()
    audit.record(session, actor=actor, action="sla_policy.created", object_type="sla_policy", object_id=slug,
                 after={k: values.get(k) for k in POLICY_FIELDS})  # fmt: skip
    forget_cache(session)
    return row


def update_policy(session: Session, row: SlaPolicyRow, *, changes: dict[str, Any], actor: Actor) -> SlaPolicyRow:
    """Change a policy's conditions or targets (audited, before and after). Tickets keep the due
    times they were given; new and recomputed ones use the new targets."""
    _check({name: getattr(row, name) for name in POLICY_FIELDS} | changes)
    if audit.apply_changes(
        session, row, changes, actor=actor, action="sla_policy.updated", object_type="sla_policy", object_id=row.slug
    ):
        row.updated_at = utcnow()
        session.flush()
        forget_cache(session)
    return row


# --- calendars ---------------------------------------------------------------------------------


def calendar_for(session: Session, policy: Policy, team: Team | None) -> arithmetic.BusinessClock:
    """The calendar a policy counts on: 24×7, the one it names, or the ticket's team's."""
    from huiying.calendars import service as calendars

    if policy.calendar == ROUND_THE_CLOCK:
        return arithmetic.ROUND_THE_CLOCK
    if policy.calendar:
        return calendars.working_calendar(session, policy.calendar)
    return calendars.team_calendar(session, team)


def policy_for(session: Session, ticket: Ticket, *, keep_chosen: bool) -> Policy:
    """The ticket's policy: the one a routing rule put on it (`keep_chosen`), else the match."""
    every = active_policies(session)
    if keep_chosen:
        chosen = by_slug(every, ticket.sla_policy)
        if chosen is not None:
            return chosen
    facts = TicketFacts(
        priority=ticket.priority or "medium",
        category=ticket.category,
        subcategory=ticket.subcategory,
        vip=bool(ticket.vip),
        special_group=ticket.special_group,
    )
    # With no table (a test database without defaults) the shipped defaults still apply.
    return choose(every or DEFAULT_POLICIES, facts) or FALLBACK


def missing_note(error: MissingCalendarData) -> str:
    year = error.date.year
    return f"工作日历缺少{year}年数据，无法计算时限 / no working-calendar data for {year}: due times not computed"[:200]


def _alert_missing(session: Session, ticket: Ticket, error: MissingCalendarData) -> None:
    admins = session.scalars(select(User.id).where(User.role == Role.ADMIN.value, User.active.is_(True)))
    year = error.date.year
    alert_staff(
        session,
        kind="calendar_missing",
        text_zh=f"工单 {ticket.number} 的时限无法计算：工作日历缺少{year}年数据，请加载国务院{year}年放假通知。",
        text_en=f"Ticket {ticket.number} has no due times: the working calendar has no data for {year}; "
        f"load the State Council's {year} holiday notice.",
        user_ids=list(admins),
        ticket_id=ticket.id,
    )


def _with_targets(session: Session, ticket: Ticket, policy: Policy, *, at_intake: bool) -> tickets.DueTimes:
    """The ticket's SLA fields with the targets of `policy` counted from its receipt: at intake
    plainly (keeping an earlier resolution time compliance set), later keeping the time spent
    paused and a reopening's restart."""
    current = tickets.DueTimes.of(ticket)
    try:
        calendar = calendar_for(session, policy, ticket.team)
        if at_intake:  # nothing has happened to the ticket yet
            computed = arithmetic.targets(policy, ticket.received_at, calendar)
        else:
            paused, restarted = _clock_history(session, ticket, calendar)
            computed = arithmetic.targets(
                policy, ticket.received_at, calendar, paused_minutes=paused, resolution_from=restarted
            )
    except MissingCalendarData as error:
        _alert_missing(session, ticket, error)
        return replace(current, sla_policy=policy.slug, sla_note=missing_note(error))
    resolution = computed.resolution_due
    if at_intake and current.resolution_due is not None:
        # Compliance (moderation) may already have brought it forward: the earlier one stands.
        resolution = min(resolution, current.resolution_due)
    first = computed.first_response_due if ticket.first_responded_at is None else current.first_response_due
    return replace(current, first_response_due=first, resolution_due=resolution, sla_policy=policy.slug, sla_note=None)


def _clock_history(session: Session, ticket: Ticket, calendar: arithmetic.BusinessClock) -> tuple[int, datetime | None]:
    """What a recomputation must keep from the ticket's past, read off its timeline: the business
    minutes spent paused (each ended pause: from its start to its resume) after the clock last
    started, and when the resolution clock last restarted (a reopening), if it did."""
    rows = session.execute(
        select(TicketEvent.field, TicketEvent.old_value, TicketEvent.data, TicketEvent.created_at)
        .where(TicketEvent.ticket_id == ticket.id, TicketEvent.field.in_(("sla_paused_at", "resolution_due")))
        .order_by(TicketEvent.id)
    ).all()
    paused, restarted = 0, None
    for row in rows:
        reason = (row.data or {}).get("reason")
        if row.field == "resolution_due" and reason == "reopened":
            paused, restarted = 0, row.created_at  # pauses before the restart no longer count
        elif row.field == "sla_paused_at" and reason == "resumed" and row.old_value:
            started = datetime.fromisoformat(row.old_value)
            if restarted is None or started >= restarted:
                paused += calendar.minutes_between(started, row.created_at)
    return paused, restarted


def preview(
    session: Session, *, received_at: datetime, priority: str, category: str | None = None, team: Team | None = None
) -> tuple[Policy, arithmetic.Targets]:
    """The policy and targets a ticket received at `received_at` would get (`huiying sla due`).
    Raises MissingCalendarData when the calendar lacks a date it needs."""
    facts = TicketFacts(priority=priority, category=category)
    policy = choose(active_policies(session) or DEFAULT_POLICIES, facts) or FALLBACK
    return policy, arithmetic.targets(policy, received_at, calendar_for(session, policy, team))


# --- reactions to ticket events ----------------------------------------------------------------


def _on_created(session: Session, event: events.Event) -> None:
    ticket = intake.being_created(session, event.ticket_id)
    if ticket is None:
        return
    policy = policy_for(session, ticket, keep_chosen=True)
    due = _with_targets(session, ticket, policy, at_intake=True)
    tickets.set_due_times(session, ticket, due=due, actor=SYSTEM, reason="intake")


def _on_changed(session: Session, event: events.Event) -> None:
    assert isinstance(event, events.TicketChanged)
    if not POLICY_INPUTS & event.changes.keys():
        return
    ticket = intake.being_created(session, event.ticket_id)
    # A ticket still being created gets its targets once, after every other intake handler.
    if ticket is None or inspect(ticket).transient or ticket.status in ("resolved", "closed", "merged"):
        return
    policy = policy_for(session, ticket, keep_chosen=False)
    due = _with_targets(session, ticket, policy, at_intake=False)
    tickets.set_due_times(session, ticket, due=due, actor=SYSTEM, reason="recomputed")


def _on_status(session: Session, event: events.Event) -> None:
    assert isinstance(event, events.StatusChanged)
    if event.old in FINISHED_STATUSES and event.new not in FINISHED_STATUSES:
        _reopened(session, event.ticket_id)
        return
    paused_before, paused_now = event.old in PAUSED_STATUSES, event.new in PAUSED_STATUSES
    if paused_before == paused_now:
        return
    ticket = session.get(Ticket, event.ticket_id)
    if ticket is None:
        return
    now = utcnow()
    current = tickets.DueTimes.of(ticket)
    if paused_now:
        tickets.set_due_times(session, ticket, due=replace(current, sla_paused_at=now), actor=SYSTEM, reason="paused")
        return
    tickets.set_due_times(session, ticket, due=resumed(session, ticket, now), actor=SYSTEM, reason="resumed")


# A resolved or closed ticket has no running clock; reopening one starts it again.
FINISHED_STATUSES = frozenset({"resolved", "closed"})


def _reopened(session: Session, ticket_id: int) -> None:
    """Reopening restarts the resolution clock: the policy's resolution time counted from now
    (the first response, made already, stays met)."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        return
    policy = policy_for(session, ticket, keep_chosen=True)
    current = tickets.DueTimes.of(ticket)
    try:
        restarted = arithmetic.targets(policy, utcnow(), calendar_for(session, policy, ticket.team))
    except MissingCalendarData as error:
        _alert_missing(session, ticket, error)
        due = replace(current, resolution_due=None, sla_paused_at=None, sla_note=missing_note(error))
    else:
        due = replace(current, resolution_due=restarted.resolution_due, sla_paused_at=None, sla_note=None)
    tickets.set_due_times(session, ticket, due=due, actor=SYSTEM, reason="reopened")


def resumed(session: Session, ticket: Ticket, now: datetime) -> tickets.DueTimes:
    """The ticket's SLA fields after a pause ends at `now`: each open target moved on by the
    business time spent paused."""
    current = tickets.DueTimes.of(ticket)
    paused_at = current.sla_paused_at
    if paused_at is None:
        return current
    policy = policy_for(session, ticket, keep_chosen=True)
    try:
        calendar = calendar_for(session, policy, ticket.team)

        def move(due: datetime | None) -> datetime | None:
            return arithmetic.resumed(due, paused_at, now, calendar)

        return replace(
            current,
            first_response_due=current.first_response_due
            if ticket.first_responded_at
            else move(current.first_response_due),
            resolution_due=move(current.resolution_due),
            next_response_due=move(current.next_response_due),
            sla_paused_at=None,
        )
    except MissingCalendarData as error:
        _alert_missing(session, ticket, error)
        return replace(current, sla_paused_at=None, sla_note=missing_note(error))


def _on_message(session: Session, event: events.Event) -> None:
    assert isinstance(event, events.MessageAdded)
    if event.kind not in ("user", "reply"):
        return
    ticket = session.get(Ticket, event.ticket_id)
    if ticket is None:
        return
    current = tickets.DueTimes.of(ticket)
    if event.kind == "reply":
        # A public reply answers whatever the user asked since the last one.
        if current.next_response_due is not None:
            tickets.set_due_times(
                session, ticket, due=replace(current, next_response_due=None), actor=SYSTEM, reason="responded"
            )
        return
    if ticket.first_responded_at is None or current.next_response_due is not None:
        return  # still waiting for the first response, or an earlier follow-up's target stands
    policy = policy_for(session, ticket, keep_chosen=True)
    try:
        due = arithmetic.next_response_due(policy, utcnow(), calendar_for(session, policy, ticket.team))
    except MissingCalendarData as error:
        _alert_missing(session, ticket, error)
        return
    tickets.set_due_times(
        session, ticket, due=replace(current, next_response_due=due), actor=SYSTEM, reason="follow_up"
    )


def install() -> None:
    """Subscribe the SLA clock; install it after triage, routing, compliance and assignment so
    the targets use what they decided."""
    events.subscribe_in_transaction(events.TicketCreated, _on_created)
    events.subscribe_in_transaction(events.TicketChanged, _on_changed)
    events.subscribe_in_transaction(events.StatusChanged, _on_status)
    events.subscribe_in_transaction(events.MessageAdded, _on_message)
