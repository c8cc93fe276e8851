"""Reading tickets: by number, filtered lists with keyset pagination, timelines."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from pydantic import AwareDatetime
from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Integer,
    Select,
    Text,
    and_,
    case,
    cast,
    column,
    false,
    func,
    or_,
    select,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by, array
from sqlalchemy.orm import Session, aliased, lazyload

from huiying.accounts.models import Team, User
from huiying.errors import InvalidInput, NotFound
from huiying.kit.pagination import CursorValues, RowId, decode_cursor, encode_cursor
from huiying.kit.text import search_terms
from huiying.tickets import lifecycle
from huiying.tickets.enums import PRIORITY_RANK, Priority, Status
from huiying.tickets.models import LANE_PREDICATE, Message, Ticket, TicketEvent, TicketTag
from huiying.tickets.numbering import normalise_number

SORTS = ("-created", "created", "priority", "due")
MAX_LIMIT = 200
MAX_QUERY_TOKENS = 12


@dataclass
class TicketQuery:
    """A ticket list request; every field narrows the result, None means no condition."""

    status: list[Status] | None = None
    category: str | None = None
    subcategory: str | None = None
    priority: list[Priority] | None = None
    team: str | None = None
    assignee: str | None = None  # an email, or "none" for unassigned
    channel: str | None = None
    user_id: str | None = None
    tag: str | None = None
    vip: bool | None = None
    needs_refinement: bool | None = None
    q: str | None = None
    sla: str | None = None  # due_soon | breached
    created_from: datetime | None = None
    created_to: datetime | None = None
    # Visibility: only tickets of these teams and not-yet-routed ones (None: every ticket).
    visible_team_ids: frozenset[int] | None = None
    team_ids: frozenset[int] | None = None  # only tickets of these teams
    routed: bool | None = None  # True: has a team; False: has none
    sort: str = "-created"
    # The queues: VIPs and special groups (the priority lane) first, each part in `sort` order.
    lane_first: bool = False
    due_soon_minutes: int = 30
    extra: list[ColumnElement[bool]] = field(default_factory=list)


def for_update(statement: Select[Any]) -> Select[Any]:
    """Lock the selected ticket rows until the transaction ends, and read them as they are now.

    Every change to a ticket loads it through this, so two writers of one ticket run one after
    the other and the second sees what the first wrote (no lost update, no event whose "old" is
    stale). NO KEY UPDATE is the lock PostgreSQL's own UPDATE takes: it still lets others insert
    rows that point at the ticket (events, messages), so a writer that holds the audit-log head
    at commit never waits for a ticket lock. No joins in the locking statement: a PostgreSQL
    statement that waited for the lock re-reads only the locked row, so a joined team or assignee
    could belong to the version before (they load, current, when first used). A no-op on SQLite,
    whose writers queue for the one write lock (BEGIN IMMEDIATE) anyway."""
    locked = statement.options(lazyload("*")).with_for_update(of=Ticket, key_share=True)
    return locked.execution_options(populate_existing=True)


def get_by_number(session: Session, number: str, *, lock: bool = False) -> Ticket:
    """The ticket with this number (typed loosely), or NotFound; `lock`: for writing (see
    `for_update`)."""
    statement = select(Ticket).where(Ticket.number == normalise_number(number))
    ticket = session.scalar(for_update(statement) if lock else statement)
    if ticket is None:
        raise NotFound(f"no ticket {number!r}", code="unknown_ticket")
    return ticket


def lock_by_numbers(session: Session, numbers: list[str]) -> dict[str, Ticket]:
    """The tickets with these numbers, by normalised number, locked for writing in the order of
    their ids: writers that need several tickets (a merge) lock them in one fixed order, so two
    of them never wait for each other."""
    wanted = {normalise_number(n) for n in numbers}
    statement = for_update(select(Ticket).where(Ticket.number.in_(sorted(wanted))).order_by(Ticket.id))
    return {ticket.number: ticket for ticket in session.scalars(statement)}


def _search_condition(session: Session, q: str) -> ColumnElement[bool] | None:
    tokens = list(dict.fromkeys(search_terms(q)))[:MAX_QUERY_TOKENS]
    number = Ticket.number == normalise_number(q)
    if not tokens:
        return number
    if session.get_bind().dialect.name == "postgresql":
        words = func.string_to_array(Ticket.search_tokens, " ")
        return or_(number, words.op("@>")(cast(array(tokens), ARRAY(Text))))
    match = " ".join('"' + token.replace('"', '""') + '"' for token in tokens)
    fts = text("SELECT rowid FROM tickets_fts WHERE tickets_fts MATCH :match").bindparams(match=match)
    return or_(number, Ticket.id.in_(fts.columns(column("rowid", Integer))))


# Filters whose rule another package owns (the sla package registers "sla" at wiring time):
# tickets never import those packages, so each rule lives in one place above tickets.
QueryFilter = Callable[[str, "TicketQuery"], ColumnElement[bool]]
_filters: dict[str, QueryFilter] = {}


def register_filter(name: str, build: QueryFilter) -> None:
    """Let a package above tickets answer a named list filter (idempotent)."""
    _filters[name] = build


def _registered(name: str) -> QueryFilter:
    build = _filters.get(name)
    if build is None:
        raise RuntimeError(f"the {name!r} ticket filter is not installed (wiring.install)")
    return build


def _conditions(session: Session, query: TicketQuery) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = list(query.extra)
    if query.status:
        wanted = set(query.status)
        # The queues ask for exactly the active statuses: use the indexed flag instead.
        if wanted == lifecycle.ACTIVE:
            conditions.append(Ticket.active == true())
        else:
            conditions.append(Ticket.status.in_([s.value for s in query.status]))
    if query.priority:
        conditions.append(Ticket.priority.in_([p.value for p in query.priority]))
    for attribute, value in (
        (Ticket.category, query.category),
        (Ticket.subcategory, query.subcategory),
        (Ticket.channel, query.channel),
        (Ticket.user_id, query.user_id),
    ):
        if value is not None:
            conditions.append(attribute == value)
    if query.vip is not None:
        conditions.append(Ticket.vip == query.vip)
    if query.needs_refinement is not None:
        conditions.append(Ticket.needs_refinement == query.needs_refinement)
    if query.team is not None:
        conditions.append(Ticket.team_id == select(Team.id).where(Team.slug == query.team).scalar_subquery())
    if query.assignee is not None:
        if query.assignee == "none":
            conditions.append(Ticket.assignee_id.is_(None))
        else:
            staff = select(User.id).where(User.email == query.assignee.strip().lower())
            conditions.append(Ticket.assignee_id == staff.scalar_subquery())
    if query.tag is not None:
        tagged = select(TicketTag.ticket_id).where(TicketTag.tag == query.tag)
        conditions.append(Ticket.id.in_(tagged))
    if query.created_from is not None:
        conditions.append(Ticket.created_at >= query.created_from)
    if query.created_to is not None:
        conditions.append(Ticket.created_at < query.created_to)
    if query.sla:
        conditions.append(_registered("sla")(query.sla, query))
    if query.q and query.q.strip():
        search = _search_condition(session, query.q)
        if search is not None:
            conditions.append(search)
    if query.team_ids is not None:
        conditions.append(Ticket.team_id.in_(query.team_ids))
    if query.routed is not None:
        conditions.append(Ticket.team_id.is_not(None) if query.routed else Ticket.team_id.is_(None))
    if query.visible_team_ids is not None:
        conditions.append(or_(Ticket.team_id.in_(query.visible_team_ids), Ticket.team_id.is_(None)))
    return conditions


def _priority_rank() -> ColumnElement[int]:
    return case({p.value: rank for p, rank in PRIORITY_RANK.items()}, value=Ticket.priority, else_=9)


class TicketCursor(CursorValues):
    """What `_cursor_for` puts in a cursor: the last row's id and, per sort, its sort value."""

    id: RowId
    rank: int | None = None
    due: AwareDatetime | None = None
    at: AwareDatetime | None = None  # received_at, for newest/oldest
    lane: bool | None = None  # lane-first lists: still in the priority lane (True) or past it


def _apply_sort(statement: Select[Any], sort: str, cursor: TicketCursor | None) -> Select[Any]:
    last_id = cursor.id if cursor else None
    if sort in ("-created", "created"):
        # By the time the feedback was received (imported mail arrives out of id order); the id
        # breaks ties. Indexed as (received_at, id) and (active, received_at, id) for the queues.
        received = Ticket.received_at
        if cursor:
            if cursor.at is None:
                raise InvalidInput("cursor is not one this server gave out", code="bad_cursor")
            if sort == "-created":
                after = or_(received < cursor.at, and_(received == cursor.at, Ticket.id < last_id))
            else:
                after = or_(received > cursor.at, and_(received == cursor.at, Ticket.id > last_id))
            statement = statement.where(after)
        if sort == "-created":
            return statement.order_by(received.desc(), Ticket.id.desc())
        return statement.order_by(received.asc(), Ticket.id.asc())
    if sort == "priority":
        rank = _priority_rank()
        if cursor:
            if cursor.rank is None:
                raise InvalidInput("cursor is not one this server gave out", code="bad_cursor")
            last_rank = cursor.rank
            statement = statement.where(or_(rank > last_rank, and_(rank == last_rank, Ticket.id < last_id)))
        return statement.order_by(rank, Ticket.id.desc())
    if sort == "due":
        due = Ticket.resolution_due
        if cursor:
            last_due = cursor.due
            if last_due is None:
                statement = statement.where(due.is_(None), Ticket.id > last_id)
            else:
                statement = statement.where(
                    or_(due > last_due, and_(due == last_due, Ticket.id > last_id), due.is_(None))
                )
        return statement.order_by(due.is_(None), due, Ticket.id)
    raise InvalidInput(f"sort must be one of {', '.join(SORTS)}", code="invalid_sort")


def _cursor_for(ticket: Ticket, sort: str) -> str:
    return _cursor(sort, ticket.id, ticket.priority, ticket.resolution_due, ticket.received_at)


def _cursor(
    sort: str, row_id: int, priority: str, due: datetime | None, received_at: datetime, lane: bool | None = None
) -> str:
    """The cursor after a row: its id and, per sort, its sort value (and, lane-first, its part)."""
    values: dict[str, Any] = {"id": row_id}
    if lane is not None:
        values["lane"] = lane
    if sort == "priority":
        values["rank"] = PRIORITY_RANK.get(Priority(priority), 9)
    if sort == "due":
        values["due"] = due.isoformat() if due else None
    if sort in ("-created", "created"):
        values["at"] = received_at.isoformat()
    return encode_cursor(values)


def _page_statement(
    session: Session, statement: Select[Any], query: TicketQuery, cursor: str | None, limit: int
) -> Select[Any]:
    """`statement` narrowed to the query, sorted, after the cursor, one row more than a page."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}", code="invalid_limit")
    statement = statement.where(*_conditions(session, query))
    statement = _apply_sort(statement, query.sort, decode_cursor(cursor, TicketCursor) if cursor else None)
    return statement.limit(limit + 1)


def _qualified(word: str) -> str:
    # The list joins another ticket (the merge target): name this one's columns.
    return f"tickets.{word}" if word in ("vip", "special_group") else word


def _in_lane(inside: bool) -> ColumnElement[bool]:
    """The priority lane (VIPs, special groups) or the rest. The lane is the partial index's
    predicate word for word (models.LANE_PREDICATE): SQLite uses it only then."""
    if inside:
        predicate = " ".join(_qualified(w) for w in LANE_PREDICATE.split())
        return and_(text(f"({predicate})"))  # as text: a boolean column would gain "= 1" on SQLite
    return and_(Ticket.vip == false(), Ticket.special_group.is_(None))


def _lane_first(
    query: TicketQuery,
    cursor: str | None,
    limit: int,
    fetch: Callable[[TicketQuery, str | None, int], list[Any]],
    cursor_of: Callable[[Any, bool], str],
) -> tuple[list[Any], str | None]:
    """A lane-first page read in two parts, each in `query.sort` order on the queue's usual
    index: the priority lane (VIPs, special groups) after the cursor, then, if the page is not
    full, the others. Not one ORDER BY on a lane expression: that sorts every matching row
    before the first is returned. The cursor says which part it stopped in."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}", code="invalid_limit")
    lane_cursor = decode_cursor(cursor, TicketCursor).lane if cursor else True
    rows: list[Any] = []
    if lane_cursor:
        rows = fetch(replace(query, lane_first=False, extra=[*query.extra, _in_lane(True)]), cursor, limit)
        if len(rows) >= limit:  # full: the next page goes on in the lane (and then past it)
            return rows[:limit], cursor_of(rows[limit - 1], True)
        cursor = None
    rest = fetch(replace(query, lane_first=False, extra=[*query.extra, _in_lane(False)]), cursor, limit - len(rows))
    rows.extend(rest)
    return rows[:limit], cursor_of(rows[limit - 1], False) if len(rows) > limit else None


def list_tickets(
    session: Session, query: TicketQuery, *, cursor: str | None = None, limit: int = 50
) -> tuple[list[Ticket], str | None]:
    """One page of tickets and the cursor of the next page (None at the end)."""
    if query.lane_first:
        return _lane_first(
            query,
            cursor,
            limit,
            lambda q, c, n: list(session.scalars(_page_statement(session, select(Ticket), q, c, n))),
            lambda t, lane: _cursor(query.sort, t.id, t.priority, t.resolution_due, t.received_at, lane),
        )
    rows = list(session.scalars(_page_statement(session, select(Ticket), query, cursor, limit)))
    next_cursor = _cursor_for(rows[limit - 1], query.sort) if len(rows) > limit else None
    return rows[:limit], next_cursor


_merged_into = aliased(Ticket, name="merged_into_ticket")
# What a list item shows (present.list_item), named as TicketOut names them where a column is
# named otherwise. Not the search tokens, the encrypted contact or its digest, which a list
# never shows; the team, the assignee and the merge target come joined, not loaded per row.
LIST_COLUMNS = (
    Ticket.id,
    Ticket.number,
    Ticket.status,
    Ticket.priority,
    Ticket.category,
    Ticket.subcategory,
    Ticket.sentiment,
    Ticket.language,
    Ticket.needs_refinement,
    Team.slug.label("team"),
    User.email.label("assignee"),
    Ticket.channel,
    Ticket.source_ref,
    Ticket.user_id,
    Ticket.user_name,
    Ticket.contact_masked.label("contact"),
    Ticket.title,
    Ticket.description,
    Ticket.vip,
    Ticket.special_group,
    Ticket.escalation_level,
    Ticket.device_os,
    Ticket.device_model,
    Ticket.app_version,
    Ticket.city,
    Ticket.links,
    Ticket.occurred_at,
    Ticket.frequency,
    _merged_into.number.label("merged_into"),
    Ticket.reopen_count,
    Ticket.received_at,
    Ticket.created_at,
    Ticket.updated_at,
    Ticket.first_responded_at,
    Ticket.resolved_at,
    Ticket.closed_at,
    Ticket.first_response_due,
    Ticket.resolution_due,
    Ticket.accepted_at,
    Ticket.next_response_due,
    Ticket.sla_policy,
    Ticket.sla_note,
    Ticket.sla_paused_at,
    Ticket.csat,
    Ticket.nps,
    Ticket.triage,
)


# Built once: composing a select of forty columns costs more than running it.
_LIST_SELECT = (
    select(*LIST_COLUMNS)
    .outerjoin(Team, Team.id == Ticket.team_id)
    .outerjoin(User, User.id == Ticket.assignee_id)
    .outerjoin(_merged_into, _merged_into.id == Ticket.merged_into_id)
)
# PostgreSQL brings each row's tags along (a round trip less); SQLite, without ordered
# aggregates before 3.44 and with no round trips to save, asks for them in a second statement.
_tags_of_row = (
    select(func.array_agg(aggregate_order_by(TicketTag.tag, TicketTag.tag)))
    .where(TicketTag.ticket_id == Ticket.id)
    .scalar_subquery()
)
_LIST_SELECT_PG = _LIST_SELECT.add_columns(_tags_of_row.label("tags"))


@dataclass
class ListPage:
    """A page of a ticket list as plain rows: a dict per ticket, keyed like LIST_COLUMNS, with
    its "tags" (sorted)."""

    rows: list[dict[str, Any]]
    next_cursor: str | None


def list_page(session: Session, query: TicketQuery, *, cursor: str | None = None, limit: int = 50) -> ListPage:
    """What `list_tickets` finds, as plain rows, in one statement whatever the limit (two on
    SQLite: the page, then its tags). An agent's queue asks for this many times a minute, and
    building fifty entities with their relationships was most of its cost."""
    postgres = session.get_bind().dialect.name == "postgresql"
    statement = _LIST_SELECT_PG if postgres else _LIST_SELECT

    def fetch(q: TicketQuery, after: str | None, n: int) -> list[dict[str, Any]]:
        result = session.execute(_page_statement(session, statement, q, after, n))
        keys = tuple(result.keys())
        # By position, then by name: a Row's attribute access costs twenty times a tuple's.
        return [dict(zip(keys, row, strict=True)) for row in result]

    def cursor_of(row: dict[str, Any], lane: bool | None = None) -> str:
        return _cursor(query.sort, row["id"], row["priority"], row["resolution_due"], row["received_at"], lane)

    next_cursor = None
    if query.lane_first:
        rows, next_cursor = _lane_first(query, cursor, limit, fetch, cursor_of)
    else:
        rows = fetch(query, cursor, limit)
        if len(rows) > limit:
            next_cursor = cursor_of(rows[limit - 1])
            del rows[limit:]
    if postgres:
        for row in rows:
            row["tags"] = row["tags"] or []
    elif rows:
        by_id = {row["id"]: row for row in rows}
        for row in rows:
            row["tags"] = []
        tagged = (
            select(TicketTag.ticket_id, TicketTag.tag)
            .where(TicketTag.ticket_id.in_(by_id))
            .order_by(TicketTag.ticket_id, TicketTag.tag)
        )
        for ticket_id, tag in session.execute(tagged):
            by_id[ticket_id]["tags"].append(tag)
    return ListPage(rows, next_cursor)


def count_tickets(session: Session, query: TicketQuery) -> int:
    statement = select(func.count()).select_from(Ticket).where(*_conditions(session, query))
    return int(session.scalar(statement) or 0)


def merged_family(session: Session, ticket: Ticket) -> list[int]:
    """The ticket's id and the ids of every ticket merged into it, directly or not."""
    family = [ticket.id]
    frontier = [ticket.id]
    while frontier:
        frontier = list(session.scalars(select(Ticket.id).where(Ticket.merged_into_id.in_(frontier))))
        family.extend(frontier)
    return family


def same_person_tickets(session: Session, ticket: Ticket, *, limit: int) -> list[Ticket]:
    """The same person's other tickets (same platform user id or same contact), newest first."""
    conditions = []
    if ticket.user_id:
        conditions.append(Ticket.user_id == ticket.user_id)
    if ticket.contact_digest:
        conditions.append(Ticket.contact_digest == ticket.contact_digest)
    if not conditions:
        return []
    statement = select(Ticket).where(or_(*conditions), Ticket.id != ticket.id).order_by(Ticket.id.desc())
    return list(session.scalars(statement.limit(limit)))


def timeline(session: Session, ticket: Ticket, *, family: list[int] | None = None) -> list[tuple[TicketEvent, str]]:
    """Every event of the ticket and of the tickets merged into it, oldest first."""
    family = family or merged_family(session, ticket)
    rows = session.execute(
        select(TicketEvent, Ticket.number)
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .where(TicketEvent.ticket_id.in_(family))
        .order_by(TicketEvent.created_at, TicketEvent.id)
    )
    return [(event, number) for event, number in rows]


def messages(
    session: Session, ticket: Ticket, *, include_internal: bool, family: list[int] | None = None
) -> list[Message]:
    """The conversation of the ticket and of tickets merged into it, oldest first."""
    statement = select(Message).where(Message.ticket_id.in_(family or merged_family(session, ticket)))
    if not include_internal:
        statement = statement.where(Message.kind != "note")
    return list(session.scalars(statement.order_by(Message.created_at, Message.id)))
