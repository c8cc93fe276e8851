"""The suggestion pool: suggestions join a group of similar ones, staff vote and product staff
decide, and every user of a group is told the outcome through their own channel.

Which tickets: category "suggestion" with sub-category "feature-request" or none ("question" and
"policy-question" are questions). A ticket joins when it is created so classified (after triage
and routing, which may set the category) and when a person re-categorises it into a suggestion;
re-categorised out of it, or merged into another ticket, it leaves. One group per ticket.

A new ticket is not written yet while its TicketCreated handlers run, so its membership row is
written right after it (intake.write_with_new_ticket); its group, when it starts one, is written
at once (it refers to no ticket).

Each change is an event on the timeline of every ticket it concerns. A decision (planned with a
rough timeline, adopted, declined with a reason) tells each member's user once per group and
outcome (notices.triggers, key `sg:<group>:<status>`); a ticket that joins a decided group is told
the standing outcome at once. Changing only the timeline of a planned group tells nobody again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, insert, inspect, select
from sqlalchemy.orm import Session

from huiying import events
from huiying.accounts import access
from huiying.accounts.access import Permission
from huiying.errors import Conflict, InvalidInput, NotFound
from huiying.kit.actor import Actor, ActorType
from huiying.kit.clock import utcnow
from huiying.kit.sql import dialect_insert
from huiying.notices import triggers
from huiying.suggestions import grouping
from huiying.suggestions.models import STATUSES, SuggestionGroup, SuggestionMember, SuggestionVote
from huiying.tickets import intake
from huiying.tickets import service as tickets
from huiying.tickets.enums import Status
from huiying.tickets.models import Ticket

CATEGORY = "suggestion"
SUBCATEGORIES = (None, "feature-request")
DECIDED = ("planned", "adopted", "declined")
TIMELINE_CHARS = 100
REASON_CHARS = 2000
POOL = Actor(type=ActorType.SYSTEM, name="suggestion-pool")


def install() -> None:
    """Subscribe after triage and routing: they may make a new ticket a suggestion."""
    events.subscribe_in_transaction(events.TicketCreated, _on_created)
    events.subscribe_in_transaction(events.TicketChanged, _on_changed)
    events.subscribe_in_transaction(events.TicketsMerged, _on_merged)


def is_suggestion(category: str | None, subcategory: str | None) -> bool:
    return category == CATEGORY and subcategory in SUBCATEGORIES


# --- joining and leaving -----------------------------------------------------------------------


def membership(session: Session, ticket_id: int) -> SuggestionMember | None:
    return session.scalar(select(SuggestionMember).where(SuggestionMember.ticket_id == ticket_id))


def group_of(session: Session, ticket_id: int) -> int | None:
    """The id of the ticket's group, also while its membership waits for the commit."""
    waiting = intake.waiting_row(session, SuggestionMember, ticket_id)
    if waiting is not None:
        return int(waiting["group_id"])
    row = membership(session, ticket_id)
    return row.group_id if row else None


def _candidates(session: Session) -> list[tuple[int, dict[str, float]]]:
    """Every pooled ticket's words by group (its stored search terms: an erased ticket has none)."""
    rows = session.execute(
        select(SuggestionMember.group_id, Ticket.search_tokens)
        .join(Ticket, Ticket.id == SuggestionMember.ticket_id)
        .where(Ticket.status != Status.MERGED.value)
    )
    return [(group_id, grouping.features_of_tokens(tokens or "")) for group_id, tokens in rows]


def _new_group(session: Session, title: str) -> SuggestionGroup:
    # A plain INSERT, not session.add + flush: during a ticket's creation a flush could write
    # rows that refer to the ticket before the ticket itself is written.
    now = utcnow()
    values = {"title": title[:200] or "(无标题)", "status": "open", "created_at": now, "updated_at": now}
    group_id = session.execute(insert(SuggestionGroup).values(values).returning(SuggestionGroup.id)).scalar_one()
    return session.get_one(SuggestionGroup, group_id)


def join_pool(session: Session, ticket: Ticket, *, actor: Actor = POOL) -> int:
    """Put the suggestion in the group of its most similar pooled suggestion, else a new group
    titled after it; tell it a decided group's outcome. Once: a pooled ticket stays where it is."""
    current = group_of(session, ticket.id)
    if current is not None:
        return current
    words = grouping.features_of_tokens(ticket.search_tokens or "")
    match = grouping.best_group(words, _candidates(session))
    group = session.get_one(SuggestionGroup, match.group_id) if match else _new_group(session, ticket.title)
    now = utcnow()
    row = {"group_id": group.id, "ticket_id": ticket.id, "score": match.score if match else None, "joined_at": now}
    if inspect(ticket).transient:
        intake.write_with_new_ticket(session, SuggestionMember, row)
    else:
        session.execute(insert(SuggestionMember).values(row))
    group.updated_at = now
    data = {"group": group.id, "title": group.title, "score": row["score"], "new_group": match is None}
    tickets.note_event(session, ticket, action="suggestion_pooled", data=data, actor=actor)
    _tell_standing(session, ticket, group)
    return group.id


def leave_pool(session: Session, ticket: Ticket, *, actor: Actor, why: str) -> None:
    """Take the ticket out of the pool (re-categorised, merged); an emptied group goes too."""
    if intake.drop_waiting_row(session, SuggestionMember, ticket.id):
        return
    row = membership(session, ticket.id)
    if row is None:
        return
    group_id = row.group_id
    session.delete(row)
    session.flush()
    tickets.note_event(session, ticket, action="suggestion_left", data={"group": group_id, "why": why}, actor=actor)
    _drop_if_empty(session, group_id)


def forget(session: Session, *, ticket_ids: Sequence[int]) -> int:
    """A user's erasure (privacy/dsr.py calls this): their tickets leave the pool, an emptied
    group goes, and a group titled after one of them is retitled after its oldest remaining
    member (the title is the one copy of their words kept here). How many tickets left."""
    rows = list(session.scalars(select(SuggestionMember).where(SuggestionMember.ticket_id.in_(ticket_ids))))
    groups = {row.group_id for row in rows}
    for row in rows:
        session.delete(row)
    session.flush()
    for group_id in sorted(groups):
        _drop_if_empty(session, group_id)
        group = session.get(SuggestionGroup, group_id)
        if group is None:
            continue
        titles = [t.title for t in member_tickets(session, group_id)]
        if titles and group.title not in titles:
            group.title, group.updated_at = titles[0][:200], utcnow()
    return len(rows)


def _drop_if_empty(session: Session, group_id: int) -> None:
    left = session.scalar(select(func.count()).where(SuggestionMember.group_id == group_id))
    group = session.get(SuggestionGroup, group_id) if not left else None
    if group is not None:
        session.delete(group)  # its votes go with it (ON DELETE CASCADE)
        session.flush()


def _on_created(session: Session, event_: events.Event) -> None:
    assert isinstance(event_, events.TicketCreated)
    ticket = intake.being_created(session, event_.ticket_id)
    if ticket is not None and is_suggestion(ticket.category, ticket.subcategory):
        join_pool(session, ticket)


def _on_changed(session: Session, event_: events.Event) -> None:
    assert isinstance(event_, events.TicketChanged)
    if not event_.changes.keys() & {"category", "subcategory"}:
        return
    # None while the ticket is being created: its TicketCreated handler (above) decides then.
    ticket = session.get(Ticket, event_.ticket_id)
    if ticket is None or ticket.status == Status.MERGED:
        return
    if is_suggestion(ticket.category, ticket.subcategory):
        join_pool(session, ticket)
    else:
        leave_pool(session, ticket, actor=POOL, why="recategorised")


def _on_merged(session: Session, event_: events.Event) -> None:
    assert isinstance(event_, events.TicketsMerged)
    ticket = session.get(Ticket, event_.ticket_id)
    if ticket is not None:
        leave_pool(session, ticket, actor=POOL, why="merged")


# --- staff moving tickets between groups -----------------------------------------------------------


def _require_suggestion(ticket: Ticket) -> None:
    if ticket.status == Status.MERGED:
        raise Conflict(f"ticket {ticket.number} was merged; its suggestion counts on the ticket it went into")
    if not is_suggestion(ticket.category, ticket.subcategory):
        raise Conflict(
            f"ticket {ticket.number} is not a suggestion; categorise it as one first",
            code="not_a_suggestion",
            details={"ticket": ticket.number},
        )


def move(session: Session, ticket: Ticket, *, into: SuggestionGroup, actor: Actor) -> None:
    """Move a pooled suggestion (the ticket locked by the caller) into group `into`; the group it
    leaves goes when emptied. The user is told `into`'s outcome if it is decided."""
    access.require(actor, Permission.TICKET_WRITE)
    _require_suggestion(ticket)
    row = membership(session, ticket.id)
    if row is not None and row.group_id == into.id:
        return
    now = utcnow()
    if row is None:
        session.add(SuggestionMember(group_id=into.id, ticket_id=ticket.id, score=None, joined_at=now))
        previous = None
    else:
        previous, row.group_id, row.score, row.joined_at = row.group_id, into.id, None, now
    into.updated_at = now
    session.flush()
    data = {"from": previous, "group": into.id, "title": into.title}
    tickets.note_event(session, ticket, action="suggestion_moved", data=data, actor=actor)
    if previous is not None:
        _drop_if_empty(session, previous)
    _tell_standing(session, ticket, into)


def split(session: Session, ticket: Ticket, *, actor: Actor) -> SuggestionGroup:
    """Take a pooled suggestion out of its group into a new open group titled after it (the
    ticket locked by the caller). Alone in its group already: that group, unchanged."""
    access.require(actor, Permission.TICKET_WRITE)
    _require_suggestion(ticket)
    row = membership(session, ticket.id)
    if row is not None:
        alone = session.scalar(select(func.count()).where(SuggestionMember.group_id == row.group_id)) == 1
        if alone:
            return session.get_one(SuggestionGroup, row.group_id)
    group = _new_group(session, ticket.title)
    move(session, ticket, into=group, actor=actor)
    return group


# --- votes --------------------------------------------------------------------------------------


def vote(session: Session, group: SuggestionGroup, *, actor: Actor, on: bool = True) -> None:
    """The staff member's +1 of the group (on) or its withdrawal (off); idempotent both ways."""
    access.require(actor, Permission.TICKET_READ)
    if actor.staff_id is None:
        raise InvalidInput("only a staff member's account may vote", code="vote_needs_staff")
    if on:
        statement = dialect_insert(session, SuggestionVote).values(
            group_id=group.id, staff_id=actor.staff_id, created_at=utcnow()
        )
        session.execute(statement.on_conflict_do_nothing(index_elements=["group_id", "staff_id"]))
    else:
        session.execute(
            delete(SuggestionVote).where(SuggestionVote.group_id == group.id, SuggestionVote.staff_id == actor.staff_id)
        )


# --- decisions ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    status: str
    timeline: str | None
    reason: str | None


def check_decision(status: str, timeline: str | None, reason: str | None) -> Decision:
    """The decision as stored: planned needs a timeline, declined a reason; what a status does
    not use is dropped (an adopted suggestion has no timeline left, an open one no reason)."""
    if status not in STATUSES:
        raise InvalidInput(
            f"status must be one of {', '.join(STATUSES)}",
            code="unknown_suggestion_status",
            details={"field": "status"},
        )
    timeline = " ".join((timeline or "").split()) or None
    reason = (reason or "").strip() or None
    if status == "planned" and not timeline:
        raise InvalidInput(
            "a planned suggestion needs a rough timeline (e.g. 2027 Q1, 预计两个月内)",
            code="timeline_required",
            details={"field": "timeline"},
        )
    if status == "declined" and not reason:
        raise InvalidInput(
            "a declined suggestion needs the reason the users will read",
            code="reason_required",
            details={"field": "reason"},
        )
    if timeline and len(timeline) > TIMELINE_CHARS:
        raise InvalidInput(f"the timeline is at most {TIMELINE_CHARS} characters", details={"field": "timeline"})
    if reason and len(reason) > REASON_CHARS:
        raise InvalidInput(f"the reason is at most {REASON_CHARS} characters", details={"field": "reason"})
    return Decision(
        status=status,
        timeline=timeline if status == "planned" else None,
        reason=reason if status == "declined" else None,
    )


def decide(
    session: Session, group: SuggestionGroup, *, status: str, timeline: str | None, reason: str | None, actor: Actor
) -> bool:
    """Set the group's status (the group locked by the caller): on every member's timeline, and
    each member's user told the outcome once. The same decision again changes nothing (False)."""
    access.require(actor, Permission.SUGGESTION_DECIDE)
    decision = check_decision(status, timeline, reason)
    if (group.status, group.timeline, group.reason) == (decision.status, decision.timeline, decision.reason):
        return False
    previous = group.status
    now = utcnow()
    group.status, group.timeline, group.reason = decision.status, decision.timeline, decision.reason
    group.decided_by, group.decided_at, group.updated_at = actor.staff_id, now, now
    session.flush()
    data = {
        "group": group.id,
        "title": group.title,
        "old": previous,
        "status": decision.status,
        "timeline": decision.timeline,
        "reason": decision.reason,
    }
    for ticket in member_tickets(session, group.id):
        tickets.note_event(session, ticket, action="suggestion_decided", data=data, actor=actor)
        _tell_standing(session, ticket, group)
    return True


def _tell_standing(session: Session, ticket: Ticket, group: SuggestionGroup) -> None:
    """Tell the ticket's user the group's outcome, once per group and outcome (the key)."""
    if group.status not in DECIDED:
        return
    detail = {"outcome": group.status, "timeline": group.timeline or "", "reason": group.reason or ""}
    triggers.notify(session, ticket, kind="suggestion", key=f"sg:{group.id}:{group.status}", detail=detail)


# --- reading ------------------------------------------------------------------------------------


def group_for(session: Session, group_id: int, *, lock: bool = False) -> SuggestionGroup:
    """The group `group_id` (locked for writing when `lock`), or 404 when it is not there."""
    query = select(SuggestionGroup).where(SuggestionGroup.id == group_id)
    group = session.scalar(query.with_for_update() if lock else query)
    if group is None:
        raise NotFound(f"no suggestion group {group_id}", code="suggestion_group_not_found")
    return group


def member_tickets(session: Session, group_id: int) -> list[Ticket]:
    """The group's tickets, oldest first (merged ones have left)."""
    return list(
        session.scalars(
            select(Ticket)
            .join(SuggestionMember, SuggestionMember.ticket_id == Ticket.id)
            .where(SuggestionMember.group_id == group_id)
            .order_by(Ticket.created_at, Ticket.id)
        )
    )
