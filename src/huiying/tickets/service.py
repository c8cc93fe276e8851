"""What staff, users and rules do to a ticket. The only writer of ticket state.

Each verb checks the change, applies it, records one event per changed field, and publishes a
domain event. None of them commits: the request or job that opened the session does.
Callers load the ticket locked for writing (`tickets.access.get_ticket_for` with a write
permission, or `repository.for_update`): changes of one ticket apply one after the other, each
seeing the last, so every event's "old" is the value the previous event left.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from huiying import events
from huiying.accounts import service as accounts
from huiying.accounts import teams
from huiying.accounts.models import Team, User
from huiying.categories import service as categories
from huiying.config import Settings
from huiying.errors import Conflict, InvalidInput
from huiying.kit.actor import SYSTEM, Actor
from huiying.kit.clock import utcnow
from huiying.kit.text import document, search_tokens
from huiying.tickets import assignees, attachments, follow_ups, history, lifecycle
from huiying.tickets.enums import Delivery, MessageKind, Priority, SpecialGroup, Status
from huiying.tickets.models import Message, Ticket, TicketTag

PATCHABLE = ("title", "category", "subcategory", "priority", "team", "assignee", "tags", "vip", "special_group")


def _changed(
    session: Session, ticket: Ticket, actor: Actor, changes: dict[str, tuple[Any, Any]], *, reroute: bool = True
) -> None:
    if not changes:
        return
    now = utcnow()
    ticket.updated_at = now
    for field, (old, new) in changes.items():
        history.record(
            session,
            ticket=ticket,
            actor=actor,
            action="field_changed",
            field=field,
            old=old,
            new=new,
            at=now,
        )
    events.publish(
        session,
        events.TicketChanged(ticket_id=ticket.id, changes=changes, actor_type=actor.type.value, reroute=reroute),
    )


def _require_live(ticket: Ticket) -> None:
    if ticket.status == Status.MERGED:
        target = ticket.merged_into.number if ticket.merged_into else "another ticket"
        raise Conflict(
            f"ticket {ticket.number} was merged into {target}; work on that ticket",
            code="ticket_merged",
            details={"merged_into": target},
        )


def _category_changes(
    session: Session, ticket: Ticket, category: str | None, subcategory: str | None, needs_refinement: bool | None
) -> dict[str, tuple[Any, Any]]:
    categories.check(session, category, subcategory)
    changes: dict[str, tuple[Any, Any]] = {}
    if ticket.category != category:
        changes["category"] = (ticket.category, category)
        ticket.category = category
    if ticket.subcategory != subcategory:
        changes["subcategory"] = (ticket.subcategory, subcategory)
        ticket.subcategory = subcategory
    if needs_refinement is not None and ticket.needs_refinement != needs_refinement:
        changes["needs_refinement"] = (ticket.needs_refinement, needs_refinement)
        ticket.needs_refinement = needs_refinement
    return changes


def _priority_changes(ticket: Ticket, priority: Priority) -> dict[str, tuple[Any, Any]]:
    if ticket.priority == priority.value:
        return {}
    changes = {"priority": (ticket.priority, priority.value)}
    ticket.priority = priority.value
    return changes


def _team_id(ticket: Ticket) -> int | None:
    # A ticket being created has its team set but not yet written, so team_id is still None.
    team = ticket.__dict__.get("team")
    return team.id if team is not None else ticket.team_id


def _assignee_id(ticket: Ticket) -> int | None:
    assignee = ticket.__dict__.get("assignee")
    return assignee.id if assignee is not None else ticket.assignee_id


def _assignment_changes(ticket: Ticket, team: Team | None, assignee: User | None) -> dict[str, tuple[Any, Any]]:
    changes: dict[str, tuple[Any, Any]] = {}
    if _team_id(ticket) != (team.id if team else None):
        changes["team"] = (ticket.team.slug if ticket.team else None, team.slug if team else None)
        ticket.team = team
    if _assignee_id(ticket) != (assignee.id if assignee else None):
        old = ticket.assignee.email if ticket.assignee else None
        changes["assignee"] = (old, assignee.email if assignee else None)
        ticket.assignee = assignee
        # A new assignee has yet to confirm receipt (确认接收); the accept deadline counts from now.
        ticket.assigned_at = utcnow() if assignee is not None else None
        ticket.accepted_at = None
    return changes


def _assessment_changes(ticket: Ticket, sentiment: str | None, language: str | None) -> dict[str, tuple[Any, Any]]:
    changes: dict[str, tuple[Any, Any]] = {}
    if sentiment != ticket.sentiment:
        changes["sentiment"] = (ticket.sentiment, sentiment)
        ticket.sentiment = sentiment
    if language != ticket.language:
        changes["language"] = (ticket.language, language)
        ticket.language = language
    return changes


def _tag_changes(ticket: Ticket, tags: Iterable[str]) -> dict[str, tuple[Any, Any]]:
    wanted = list(dict.fromkeys(tags))
    if set(wanted) == set(ticket.tags):
        return {}
    old = ticket.tags
    ticket.tag_rows = [row for row in ticket.tag_rows if row.tag in wanted] + [
        TicketTag(tag=tag) for tag in wanted if tag not in old
    ]
    return {"tags": (old, sorted(wanted))}


def category_team(session: Session, category: str | None, subcategory: str | None) -> Team | None:
    """The active team a category (or its sub-category) is routed to by default (triage and re-routing)."""
    node = categories.active_by_slug(session).get(category or "")
    if node is None:
        return None
    child = next((c for c in node.children if c.slug == subcategory), None)
    slug = (child.default_team if child else None) or node.default_team
    return teams.active_team(session, slug) if slug else None


def categorize(
    session: Session,
    ticket: Ticket,
    *,
    category: str | None,
    subcategory: str | None,
    actor: Actor,
    needs_refinement: bool | None = None,
    route: bool = True,
) -> None:
    """Set category and sub-category (checked against the taxonomy). A person's change or
    confirmation is routed again by the routing rules (which subscribe to the change) unless a
    person chose the team; `route=False` when the caller sets the team itself."""
    _require_live(ticket)
    changes = _category_changes(session, ticket, category, subcategory, needs_refinement)
    _changed(session, ticket, actor, changes, reroute=route)


def set_priority(session: Session, ticket: Ticket, *, priority: Priority, actor: Actor) -> None:
    _require_live(ticket)
    _changed(session, ticket, actor, _priority_changes(ticket, priority))


def expedite(
    session: Session, ticket: Ticket, *, resolution_due: datetime, escalation_level: int, actor: Actor
) -> None:
    """Bring the resolution target forward to `resolution_due` (never later) and raise the
    escalation level to at least `escalation_level` (never lower) — a rule above tickets (e.g.
    compliance) that needs a ticket sooner changes it here, recorded like any other field."""
    _require_live(ticket)
    changes: dict[str, tuple[Any, Any]] = {}
    if ticket.resolution_due is None or ticket.resolution_due > resolution_due:
        changes["resolution_due"] = (ticket.resolution_due, resolution_due)
        ticket.resolution_due = resolution_due
    if ticket.escalation_level < escalation_level:
        changes["escalation_level"] = (ticket.escalation_level, escalation_level)
        ticket.escalation_level = escalation_level
    _changed(session, ticket, actor, changes)


def escalate(
    session: Session,
    ticket: Ticket,
    *,
    level: int,
    team: Team | None,
    assignee: User | None,
    reason: str,
    actor: Actor,
    tags: Iterable[str] = (),
) -> None:
    """Raise the escalation level to `level` and hand the ticket to `team`/`assignee` (chosen by
    the caller: the ladder lives above tickets, in sla.escalation); the reason goes on the timeline."""
    _require_live(ticket)
    if level <= ticket.escalation_level:
        raise Conflict(f"ticket {ticket.number} is at escalation level {ticket.escalation_level} already")
    if assignee is not None:
        assignees.check(session, assignee, team)
    changes: dict[str, tuple[Any, Any]] = {"escalation_level": (ticket.escalation_level, level)}
    ticket.escalation_level = level
    changes |= _assignment_changes(ticket, team, assignee)
    if tags:
        changes |= _tag_changes(ticket, [*ticket.tags, *tags])
    history.record(session, ticket=ticket, actor=actor, action="escalated", data={"level": level, "reason": reason})
    _changed(session, ticket, actor, changes)


def set_sla_policy(session: Session, ticket: Ticket, *, policy: str | None, actor: Actor) -> None:
    """Name the SLA policy the ticket's due times follow (routing chooses it; sla reads it)."""
    _require_live(ticket)
    if ticket.sla_policy != policy:
        changes = {"sla_policy": (ticket.sla_policy, policy)}
        ticket.sla_policy = policy
        _changed(session, ticket, actor, changes)


def note_event(session: Session, ticket: Ticket, *, action: str, data: dict[str, Any], actor: Actor) -> None:
    """Put something that happened to the ticket but changed no field on its timeline (an SLA
    warning, a request for review); rules above tickets call it."""
    history.record(session, ticket=ticket, actor=actor, action=action, data=data)


@dataclass(frozen=True)
class DueTimes:
    """The SLA clock's fields on a ticket, set together by the package that owns the rule (sla)."""

    first_response_due: datetime | None
    resolution_due: datetime | None
    next_response_due: datetime | None
    sla_policy: str | None
    sla_note: str | None
    sla_paused_at: datetime | None

    @classmethod
    def of(cls, ticket: Ticket) -> DueTimes:
        return cls(
            ticket.first_response_due,
            ticket.resolution_due,
            ticket.next_response_due,
            ticket.sla_policy,
            ticket.sla_note,
            ticket.sla_paused_at,
        )


def set_due_times(session: Session, ticket: Ticket, *, due: DueTimes, actor: Actor, reason: str) -> None:
    """Set the SLA clock's fields; each one that changed is an event carrying `reason` (e.g.
    `paused`, `resumed`, `recomputed`). On a ticket being created they are set without events."""
    changes: dict[str, tuple[Any, Any]] = {}
    for name, new in due.__dict__.items():
        old = getattr(ticket, name)
        if old != new:
            changes[name] = (old, new)
            setattr(ticket, name, new)
    if inspect(ticket).transient:
        # Being created: first targets are part of the creation (the ticket shows them with its
        # policy); only overriding one an earlier handler set (compliance's) is a change.
        changes = {name: change for name, change in changes.items() if change[0] is not None}
    if not changes:
        return
    # A moved target is a new promise: the sweep may warn and escalate on it again.
    if "first_response_due" in changes:
        ticket.response_warned_at = ticket.response_breached_at = None
    if "resolution_due" in changes:
        ticket.resolution_warned_at = ticket.resolution_breached_at = None
    now = utcnow()
    ticket.updated_at = now
    for name, (old, new) in changes.items():
        history.record(
            session, ticket=ticket, actor=actor, action="field_changed", field=name, old=old, new=new,
            data={"reason": reason}, at=now,
        )  # fmt: skip
    events.publish(session, events.TicketChanged(ticket_id=ticket.id, changes=changes, actor_type=actor.type.value))


def assign(session: Session, ticket: Ticket, *, team: Team | None, assignee: User | None, actor: Actor) -> None:
    """Give the ticket to a team and/or a person; None takes it away. The person must be able to
    work a ticket of that team (422 otherwise). A team set by a person stays when the category
    changes later."""
    _require_live(ticket)
    moves = _team_id(ticket) != (team.id if team else None) or _assignee_id(ticket) != (
        assignee.id if assignee else None
    )
    if assignee is not None and moves:
        assignees.check(session, assignee, team)
    changes = _assignment_changes(ticket, team, assignee)
    if "team" in changes and actor.is_staff:
        ticket.team_chosen = team is not None
    _changed(session, ticket, actor, changes)


@dataclass(frozen=True)
class Classification:
    """Everything triage sets on a new ticket, applied as one change."""

    category: str | None
    subcategory: str | None
    needs_refinement: bool
    priority: Priority
    sentiment: str | None
    language: str | None
    add_tags: tuple[str, ...] = ()
    team: Team | None = None  # only set when the ticket has no team yet


def classify(session: Session, ticket: Ticket, classification: Classification, *, actor: Actor) -> None:
    """Apply a classification: one event per changed field, one TicketChanged for them all."""
    _require_live(ticket)
    c = classification
    changes = _category_changes(session, ticket, c.category, c.subcategory, c.needs_refinement)
    changes |= _priority_changes(ticket, c.priority)
    changes |= _assessment_changes(ticket, c.sentiment, c.language)
    if c.add_tags:
        changes |= _tag_changes(ticket, [*ticket.tags, *c.add_tags])
    if c.team is not None and ticket.team_id is None:
        changes |= _assignment_changes(ticket, c.team, ticket.assignee)
    _changed(session, ticket, actor, changes)


def set_tags(session: Session, ticket: Ticket, *, tags: Iterable[str], actor: Actor) -> None:
    _require_live(ticket)
    _changed(session, ticket, actor, _tag_changes(ticket, tags))


def add_tags(session: Session, ticket: Ticket, *, tags: Iterable[str], actor: Actor) -> None:
    set_tags(session, ticket, tags=[*ticket.tags, *tags], actor=actor)


def retitle(session: Session, ticket: Ticket, *, title: str, actor: Actor) -> None:
    _require_live(ticket)
    if ticket.title != title:
        changes = {"title": (ticket.title, title)}
        ticket.title = title
        ticket.search_tokens = search_tokens(document(title, ticket.description))
        _changed(session, ticket, actor, changes)


def set_vip(session: Session, ticket: Ticket, *, vip: bool, actor: Actor) -> None:
    _require_live(ticket)
    if ticket.vip != vip:
        changes = {"vip": (ticket.vip, vip)}
        ticket.vip = vip
        _changed(session, ticket, actor, changes)


def set_special_group(session: Session, ticket: Ticket, *, group: str | None, actor: Actor) -> None:
    """Mark the ticket as from a special group (enums.SpecialGroup) or clear it (None)."""
    _require_live(ticket)
    if group is not None and group not in {g.value for g in SpecialGroup}:
        allowed = ", ".join(g.value for g in SpecialGroup)
        raise InvalidInput(f"special_group must be one of {allowed}", details={"field": "special_group"})
    if ticket.special_group != group:
        changes = {"special_group": (ticket.special_group, group)}
        ticket.special_group = group
        _changed(session, ticket, actor, changes)


def update_ticket(session: Session, ticket: Ticket, *, patch: dict[str, Any], actor: Actor) -> None:
    """Apply a PATCH: only the keys present change; `None` clears team, assignee, category."""
    unknown = set(patch) - set(PATCHABLE)
    if unknown:
        raise InvalidInput(f"these fields cannot be changed: {', '.join(sorted(unknown))}")
    if "title" in patch:
        if not patch["title"]:
            raise InvalidInput("the title cannot be empty", code="empty_title")
        retitle(session, ticket, title=patch["title"], actor=actor)
    if "category" in patch or "subcategory" in patch:
        category = patch.get("category", ticket.category)
        # A new category invalidates the old sub-category unless a new one is given.
        keep_sub = "category" not in patch or category == ticket.category
        subcategory = patch.get("subcategory", ticket.subcategory if keep_sub else None)
        categorize(
            session,
            ticket,
            category=category,
            subcategory=subcategory,
            actor=actor,
            needs_refinement=False if category else None,
            route="team" not in patch,
        )
    if patch.get("priority") is not None:
        set_priority(session, ticket, priority=Priority(patch["priority"]), actor=actor)
    if "team" in patch or "assignee" in patch:
        team = ticket.team
        if "team" in patch:
            team = accounts.team_by_slug(session, patch["team"]) if patch["team"] else None
        assignee = ticket.assignee
        if "assignee" in patch:
            assignee = accounts.user_by_email(session, patch["assignee"]) if patch["assignee"] else None
        elif assignee is not None and not assignees.can_work(session, assignee, team):
            assignee = None  # handed to another team: whoever had it there can no longer open it
        assign(session, ticket, team=team, assignee=assignee, actor=actor)
    if patch.get("tags") is not None:
        set_tags(session, ticket, tags=patch["tags"], actor=actor)
    if patch.get("vip") is not None:
        set_vip(session, ticket, vip=patch["vip"], actor=actor)
    if "special_group" in patch:
        group = patch["special_group"]
        set_special_group(session, ticket, group=str(group) if group else None, actor=actor)


def accept(session: Session, ticket: Ticket, *, actor: Actor) -> bool:
    """The assignee confirms receipt (确认接收): sets `accepted_at`, one "accepted" event. Only the
    assignee may (409 for anyone else); the same person again is a no-op answering False, so a
    retried tap never fails."""
    _require_live(ticket)
    if actor.staff_id is None or _assignee_id(ticket) != actor.staff_id:
        raise Conflict(
            f"only the assignee of ticket {ticket.number} can confirm receipt",
            code="not_assignee",
            details={"assignee": ticket.assignee.email if ticket.assignee else None},
        )
    if ticket.accepted_at is not None:
        return False
    now = utcnow()
    ticket.accepted_at = now
    ticket.updated_at = now
    history.record(session, ticket=ticket, actor=actor, action="accepted", at=now)
    return True


def change_status(session: Session, ticket: Ticket, *, status: Status, actor: Actor, note: str | None = None) -> None:
    """Move the ticket through the status machine; the same status again is a no-op."""
    current = Status(ticket.status)
    if current == status:
        return
    lifecycle.check_transition(current, status)
    now = utcnow()
    if lifecycle.is_reopen(current, status):
        ticket.reopen_count += 1
        ticket.resolved_at = None
        ticket.closed_at = None
    if status == Status.RESOLVED:
        ticket.resolved_at = now
    if status == Status.CLOSED:
        ticket.closed_at = now
        ticket.resolved_at = ticket.resolved_at or now
    lifecycle.set_status(ticket, status)
    ticket.updated_at = now
    history.record(
        session,
        ticket=ticket,
        actor=actor,
        action="status_changed",
        field="status",
        old=current.value,
        new=status.value,
        data={"note": note} if note else None,
        at=now,
    )
    if note:
        _add_message(session, ticket, kind=MessageKind.NOTE, body=note, actor=actor)
    events.publish(session, events.StatusChanged(ticket_id=ticket.id, old=current.value, new=status.value))


def _add_message(
    session: Session,
    ticket: Ticket,
    *,
    kind: MessageKind,
    body: str,
    actor: Actor,
    channel: str | None = None,
    source_ref: str | None = None,
) -> Message:
    message = Message(
        ticket_id=ticket.id,
        kind=kind.value,
        author_type=actor.type.value,
        author_id=actor.staff_id,
        author_name=actor.name[:100],
        body=body,
        channel=channel or ticket.channel,
        source_ref=source_ref,
        delivery=(Delivery.QUEUED if kind == MessageKind.REPLY else Delivery.NOT_NEEDED).value,
        created_at=utcnow(),
    )
    session.add(message)
    session.flush()
    return message


def add_reply(
    session: Session,
    ticket: Ticket,
    *,
    body: str,
    internal: bool,
    actor: Actor,
    settings: Settings,
    attachment_ids: list[str] | None = None,
) -> Message:
    """A public reply (sent out through the ticket's channel) or an internal note."""
    _require_live(ticket)
    if not internal and ticket.status == Status.CLOSED:
        raise Conflict("the ticket is closed; reopen it before replying", code="ticket_closed")
    kind = MessageKind.NOTE if internal else MessageKind.REPLY
    message = _add_message(session, ticket, kind=kind, body=body, actor=actor)
    files = attachments.claim(
        session,
        ids=attachment_ids or [],
        ticket_id=ticket.id,
        message_id=message.id,
        limit=settings.max_attachments_per_ticket,
    )
    now = utcnow()
    ticket.updated_at = now
    history.record(
        session,
        ticket=ticket,
        actor=actor,
        action="note_added" if internal else "reply_added",
        data={"message_id": message.id, "attachments": [f.id for f in files]},
        at=now,
    )
    if not internal:
        if ticket.first_responded_at is None and actor.is_staff:
            ticket.first_responded_at = now
        # Its deliveries are queued by channels (a MessageAdded handler) and sent after commit.
        if ticket.status == Status.NEW:
            change_status(session, ticket, status=Status.OPEN, actor=actor)
    events.publish(
        session,
        events.MessageAdded(
            ticket_id=ticket.id,
            message_id=message.id,
            kind=kind.value,
            author_type=actor.type.value,
        ),
    )
    return message


def add_user_message(
    session: Session,
    ticket: Ticket,
    *,
    body: str,
    actor: Actor,
    settings: Settings,
    channel: str | None = None,
    source_ref: str | None = None,
    attachment_ids: list[str] | None = None,
) -> Message:
    """The user adds to their feedback; a ticket waiting for them goes back to the agent.

    With the channel's own id of the message (`source_ref`) a replay adds nothing and returns
    the message the first delivery made (tickets/follow_ups.py)."""
    _require_live(ticket)
    if source_ref is not None:
        earlier = follow_ups.earlier_message(
            session, ticket, channel=channel or ticket.channel, source_ref=source_ref, body=body
        )
        if earlier is not None:
            return earlier
    message = _add_message(
        session,
        ticket,
        kind=MessageKind.USER,
        body=body,
        actor=actor,
        channel=channel,
        source_ref=source_ref,
    )
    files = attachments.claim(
        session,
        ids=attachment_ids or [],
        ticket_id=ticket.id,
        message_id=message.id,
        limit=settings.max_attachments_per_ticket,
    )
    ticket.updated_at = utcnow()
    history.record(
        session,
        ticket=ticket,
        actor=actor,
        action="user_message_added",
        data={"message_id": message.id, "attachments": [f.id for f in files]},
    )
    if ticket.status == Status.PENDING:
        change_status(session, ticket, status=Status.OPEN, actor=SYSTEM, note=None)
    events.publish(
        session,
        events.MessageAdded(ticket_id=ticket.id, message_id=message.id, kind="user", author_type=actor.type.value),
    )
    return message


def merge(session: Session, source: Ticket, *, into: Ticket, actor: Actor) -> None:
    """Fold `source` into `into`: source becomes merged, both keep their whole history."""
    if source.id == into.id:
        raise Conflict("a ticket cannot be merged into itself", code="merge_into_self")
    lifecycle.check_merge(Status(source.status), Status(into.status))
    now = utcnow()
    old_status = source.status
    lifecycle.set_status(source, Status.MERGED)
    source.merged_into = into
    source.updated_at = now
    into.updated_at = now
    missing_tags = [tag for tag in source.tags if tag not in into.tags]
    if missing_tags:
        into.tag_rows.extend(TicketTag(tag=tag) for tag in missing_tags)
    history.record(
        session,
        ticket=source,
        actor=actor,
        action="merged_into",
        field="status",
        old=old_status,
        new=Status.MERGED.value,
        data={"into": into.number},
        at=now,
    )
    history.record(
        session,
        ticket=into,
        actor=actor,
        action="merged_from",
        data={"from": source.number, "tags_added": missing_tags},
        at=now,
    )
    events.publish(session, events.StatusChanged(ticket_id=source.id, old=old_status, new=Status.MERGED.value))
    events.publish(session, events.TicketsMerged(ticket_id=source.id, into_id=into.id))
