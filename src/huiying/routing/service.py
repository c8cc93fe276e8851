"""Routing in the product: applying the ordered rules to new and re-categorised tickets, and the
rules admins edit (with a dry run on recent tickets), each change audited.

A reaction to ticket events, run after triage (wiring subscribes it second): the ticket is
shaped before it is written. Every write goes through `tickets.service` (it records events);
every rule that fired is one "routed" event on the timeline, in words.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from huiying import events
from huiying.accounts import rights, teams
from huiying.accounts.models import Team, User
from huiying.alerts import service as alerts
from huiying.audit import service as audit
from huiying.errors import InvalidInput, NotFound
from huiying.kit.actor import Actor, ActorType
from huiying.kit.clock import utcnow
from huiying.routing.defaults import ROUTING_TEAMS, default_rule_dicts
from huiying.routing.models import RoutingRuleRow
from huiying.routing.rules import (
    Facts,
    Outcome,
    RoutingRule,
    RoutingRuleError,
    evaluate,
    facts_text,
    load_rules,
    validate_rule,
)
from huiying.tickets import assignees, intake, service
from huiying.tickets.enums import Priority
from huiying.tickets.models import Ticket

log = logging.getLogger(__name__)

ROUTING = Actor(type=ActorType.BOT, name="routing")
REFRESH_SECONDS = 5.0
_BUSY = "routing.busy"
_PRIORITY_ZH = {"urgent": "紧急", "high": "高", "medium": "中", "low": "低"}
_ROLE_ZH = {"senior": "资深客服", "supervisor": "主管"}
_MODE_ZH = {"manual": "手动", "round_robin": "轮询", "least_loaded": "最少负载", "skill": "按技能"}

_timezone: tzinfo = ZoneInfo("Asia/Shanghai")


def configure(*, timezone: str) -> None:
    """The platform's local time zone, for rules on the time of day (wiring hands it in)."""
    global _timezone
    _timezone = ZoneInfo(timezone)


# --- the per-process rules -------------------------------------------------------------------------


@dataclass
class _Loaded:
    stamp: tuple[Any, ...]
    rules: list[RoutingRule]
    checked: float


_runtime: weakref.WeakKeyDictionary[Engine, _Loaded] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def _load(session: Session) -> list[RoutingRule]:
    rules = []
    for row in list_rules(session):
        try:
            rules.append(validate_rule(row.body))
        except RoutingRuleError as exc:  # stored before a rule change of the format: skip, say why
            log.warning("routing rule %s skipped: %s", row.id, exc)
    return rules


def active_rules(session: Session) -> list[RoutingRule]:
    """The stored rules in order, compiled once per process and re-read when they change."""
    engine = session.get_bind().engine
    loaded = _runtime.get(engine)
    if loaded is not None and time.monotonic() - loaded.checked < REFRESH_SECONDS:
        return loaded.rules
    stamp = tuple(session.execute(select(func.count(), func.max(RoutingRuleRow.updated_at))).one())
    with _lock:
        loaded = _runtime.get(engine)
        if loaded is None or loaded.stamp != stamp:
            loaded = _Loaded(stamp, _load(session), 0.0)
            _runtime[engine] = loaded
        loaded.checked = time.monotonic()
    return loaded.rules


def forget_runtime(session: Session) -> None:
    _runtime.pop(session.get_bind().engine, None)


# --- applying ----------------------------------------------------------------------------------------


def facts_of(ticket: Ticket, *, now: datetime | None = None) -> Facts:
    """What rules see of a ticket; the time of day is the platform's local time of receipt."""
    present = {
        name for name in ("device_os", "device_model", "app_version", "city", "user_id") if getattr(ticket, name)
    }
    present |= {f"links.{key}" for key, value in (ticket.links or {}).items() if value}
    if ticket.links:
        present.add("links")
    moment = now or ticket.received_at or utcnow()
    return Facts(
        category=ticket.category,
        subcategory=ticket.subcategory,
        priority=ticket.priority or "medium",
        channel=ticket.channel,
        text=facts_text(ticket.title or "", ticket.description or ""),
        vip=bool(ticket.vip),
        special_group=ticket.special_group,
        language=ticket.language,
        user_id=ticket.user_id,
        fields=frozenset(present),
        local_time=moment.astimezone(_timezone).time(),
    )


def _team_label(session: Session, team: Team | None, *, en: bool) -> str:
    if team is None:
        return "?"
    name = team.name_en if en else team.name_zh
    parent = teams.active_team_names(session, team.parent_id) if team.parent_id else None
    if parent is None:
        return name
    return f"{parent[1] if en else parent[0]}-{name}"


def _said(session: Session, name: str, applied: dict[str, Any]) -> tuple[str, str]:
    """One rule's effect in words, Chinese and English."""
    zh: list[str] = []
    en: list[str] = []
    if "team" in applied:
        team = teams.active_team(session, applied["team"])
        zh.append(f"分派到 {_team_label(session, team, en=False)}")
        en.append(f"routed to {_team_label(session, team, en=True)}")
    if "priority" in applied:
        zh.append(f"优先级设为{_PRIORITY_ZH.get(applied['priority'], applied['priority'])}")
        en.append(f"priority set to {applied['priority']}")
    if "tags" in applied:
        zh.append("加标签 " + "、".join(applied["tags"]))
        en.append("tagged " + ", ".join(applied["tags"]))
    if "assignee" in applied:
        zh.append(f"指派给 {applied['assignee']}")
        en.append(f"assigned to {applied['assignee']}")
    if "assignee_role" in applied:
        role = applied["assignee_role"]
        zh.append(f"优先交给{_ROLE_ZH.get(role, role)}")
        en.append(f"for a {role} first")
    if "assignment_mode" in applied:
        mode = applied["assignment_mode"]
        zh.append(f"分配方式：{_MODE_ZH.get(mode, mode)}")
        en.append(f"assignment: {mode.replace('_', ' ')}")
    if "sla_policy" in applied:
        zh.append(f"时效策略 {applied['sla_policy']}")
        en.append(f"SLA policy {applied['sla_policy']}")
    if "notify" in applied:
        labels = [teams.active_team(session, slug) for slug in applied["notify"]]
        zh.append("通知主管：" + "、".join(_team_label(session, t, en=False) for t in labels))
        en.append("supervisors alerted: " + ", ".join(_team_label(session, t, en=True) for t in labels))
    return f"规则「{name}」：{'；'.join(zh)}", f"rule \u201c{name}\u201d: {'; '.join(en)}"


def _assignee(session: Session, ref: str) -> User | None:
    if ref.isdigit():
        return session.get(User, int(ref))
    return session.scalar(select(User).where(func.lower(User.email) == ref.lower()))


def route_ticket(session: Session, ticket: Ticket, *, reason: str, rules: list[RoutingRule] | None = None) -> Outcome:
    """Evaluate the rules for `ticket` and apply the outcome as the `routing` bot. A team a
    person chose is never overridden; a ticket that still needs refining moves only by rules
    that do not look at its (unsure) category or text."""
    rules = active_rules(session) if rules is None else rules
    outcome = evaluate(rules, facts_of(ticket))
    if not outcome.fired:
        return outcome
    by_id = {rule.id: rule for rule in rules}
    with session.no_autoflush:
        team_slug = outcome.team
        if team_slug is not None and ticket.needs_refinement:
            deciding = next(f for f in outcome.fired if "team" in f.applied)
            when = by_id[deciding.rule_id].when
            if when.category or when.subcategory or when.keywords:
                team_slug = None
        team = teams.active_team(session, team_slug) if team_slug else None
        if team is not None and not ticket.team_chosen and (ticket.team.slug if ticket.team else None) != team.slug:
            keep = ticket.assignee is not None and assignees.can_work(session, ticket.assignee, team)
            service.assign(session, ticket, team=team, assignee=ticket.assignee if keep else None, actor=ROUTING)
        if outcome.priority and outcome.priority != ticket.priority:
            service.set_priority(session, ticket, priority=Priority(outcome.priority), actor=ROUTING)
        if outcome.tags:
            service.add_tags(session, ticket, tags=outcome.tags, actor=ROUTING)
        assignee_id = None
        if outcome.assignee and ticket.assignee is None:
            person = _assignee(session, outcome.assignee)
            if person is not None and person.active and assignees.can_work(session, person, ticket.team):
                service.assign(session, ticket, team=ticket.team, assignee=person, actor=ROUTING)
            assignee_id = person.id if person is not None else None
        if outcome.sla_policy:
            service.set_sla_policy(session, ticket, policy=outcome.sla_policy, actor=ROUTING)
        fired = []
        # Only rules that decided something are told: one whose team lost to an earlier rule's
        # would read as an empty sentence.
        for rule in (r for r in outcome.fired if r.applied):
            zh, en = _said(session, rule.name, rule.applied)
            fired.append(
                {
                    "id": rule.rule_id,
                    "name": rule.name,
                    "applied": rule.applied,
                    "keywords": list(rule.keywords),
                    "zh": zh,
                    "en": en,
                }
            )
        ticket.triage = {
            **(ticket.triage or {}),
            "routing": {
                "rules": [r.rule_id for r in outcome.fired],
                "assignment_mode": outcome.assignment_mode,
                "assignee_role": outcome.assignee_role,
                "assignee": outcome.assignee,
                "assignee_id": assignee_id,
                "notify": list(outcome.notify),
                "stopped_by": outcome.stopped_by,
            },
        }
        service.note_event(session, ticket, action="routed", data={"reason": reason, "rules": fired}, actor=ROUTING)
        for slug in outcome.notify:
            target = teams.active_team(session, slug)
            if target is not None:
                alerts.alert_staff(
                    session,
                    kind="routing",
                    text_zh=f"工单 {ticket.number}「{ticket.title[:60]}」按规则通知",
                    text_en=f"ticket {ticket.number} \u201c{ticket.title[:60]}\u201d: a routing rule asks you to look",
                    team_id=target.id,
                    ticket_id=ticket.id,
                    urgent=ticket.priority == "urgent",
                )
    return outcome


def _guarded(session: Session, ticket: Ticket, reason: str) -> None:
    if session.info.get(_BUSY):  # our own changes publish TicketChanged too
        return
    session.info[_BUSY] = True
    try:
        route_ticket(session, ticket, reason=reason)
    finally:
        session.info.pop(_BUSY, None)


def _on_created(session: Session, event: events.Event) -> None:
    assert isinstance(event, events.TicketCreated)
    ticket = intake.being_created(session, event.ticket_id)
    if ticket is not None:
        _guarded(session, ticket, "created")


def _on_changed(session: Session, event: events.Event) -> None:
    """A person re-categorised the ticket (or changed what rules look at): route it again."""
    assert isinstance(event, events.TicketChanged)
    # needs_refinement: a person confirming the category lets category rules move the ticket.
    looked_at = {"category", "subcategory", "needs_refinement", "vip", "special_group"}
    if event.actor_type != ActorType.STAFF.value or not event.reroute or not event.changes.keys() & looked_at:
        return
    ticket = session.get(Ticket, event.ticket_id)
    if ticket is not None:
        _guarded(session, ticket, "changed")


def install() -> None:
    events.subscribe_in_transaction(events.TicketCreated, _on_created)
    events.subscribe_in_transaction(events.TicketChanged, _on_changed)


# --- rules admins edit -------------------------------------------------------------------------------


def list_rules(session: Session) -> list[RoutingRuleRow]:
    return list(session.scalars(select(RoutingRuleRow).order_by(RoutingRuleRow.position, RoutingRuleRow.id)))


def _validated(session: Session, body: dict[str, Any]) -> RoutingRule:
    try:
        rule = validate_rule(body)
    except RoutingRuleError as exc:
        raise InvalidInput(str(exc), code="invalid_rule", details={"field": exc.field}) from exc
    for slug in (rule.then.team, *rule.then.notify):
        if slug and teams.active_team(session, slug) is None:
            raise InvalidInput(f"no active team {slug!r}", code="unknown_team", details={"field": "then.team"})
    return rule


def get_rule(session: Session, rule_id: str) -> RoutingRuleRow:
    row = session.get(RoutingRuleRow, rule_id)
    if row is None:
        raise NotFound(f"no routing rule {rule_id!r}", code="unknown_rule")
    return row


def save_rule(session: Session, body: dict[str, Any], *, actor: Actor, create: bool = False) -> RoutingRuleRow:
    """Create (appended last) or replace a rule after checking it; audited."""
    rule = _validated(session, body)
    row = session.get(RoutingRuleRow, rule.id)
    if create and row is not None:
        raise InvalidInput(f"a rule {rule.id!r} exists already", code="duplicate_rule", details={"field": "id"})
    before = row.body if row else None
    if row is None:
        position = int(session.scalar(select(func.max(RoutingRuleRow.position))) or 0) + 1
        row = RoutingRuleRow(id=rule.id, position=position)
        session.add(row)
    row.body = rule.to_dict()
    row.updated_at = utcnow()
    row.updated_by_id = actor.staff_id
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="routing.rule_saved",
        object_type="routing_rule",
        object_id=rule.id,
        before=before,
        after=row.body,
    )
    forget_runtime(session)
    return row


def delete_rule(session: Session, rule_id: str, *, actor: Actor) -> None:
    row = get_rule(session, rule_id)
    audit.record(
        session,
        actor=actor,
        action="routing.rule_deleted",
        object_type="routing_rule",
        object_id=rule_id,
        before=row.body,
    )
    session.delete(row)
    session.flush()
    forget_runtime(session)


def reorder(session: Session, ids: list[str], *, actor: Actor) -> list[RoutingRuleRow]:
    """Put the rules in the order of `ids`, which must name every rule exactly once."""
    rows = {row.id: row for row in list_rules(session)}
    if sorted(ids) != sorted(rows) or len(set(ids)) != len(ids):
        raise InvalidInput(
            "the order must list every rule id exactly once", code="invalid_order", details={"expected": sorted(rows)}
        )
    before = [row.id for row in sorted(rows.values(), key=lambda r: (r.position, r.id))]
    now = utcnow()
    for position, rule_id in enumerate(ids):
        rows[rule_id].position = position
        rows[rule_id].updated_at = now
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="routing.rules_reordered",
        object_type="routing_rule",
        object_id="*",
        before={"order": before},
        after={"order": ids},
    )
    forget_runtime(session)
    return [rows[i] for i in ids]


def test_rule(session: Session, body: dict[str, Any], *, recent: int = 300) -> tuple[int, list[dict[str, Any]]]:
    """Try a draft rule on the most recent tickets before saving it: which it matches, with what
    it would do there. Returns how many were tried and the hits."""
    rule = _validated(session, {**body, "enabled": True})
    tickets = list(session.scalars(select(Ticket).order_by(Ticket.id.desc()).limit(max(1, min(recent, 2000)))))
    hits = []
    for ticket in tickets:
        outcome = evaluate([rule], facts_of(ticket))
        if outcome.fired:
            hits.append(
                {
                    "number": ticket.number,
                    "title": ticket.title,
                    "keywords": list(outcome.fired[0].keywords),
                    "current": {"team": ticket.team.slug if ticket.team else None, "priority": ticket.priority},
                    "would_set": outcome.fired[0].applied,
                }
            )
    return len(tickets), hits


def ensure_default_rules(session: Session) -> int:
    """Create routing's teams where missing and seed the shipped rules into an empty table."""
    existing = {team.slug: team for team in teams.list_teams(session)}
    added = 0
    for seed in ROUTING_TEAMS:
        if seed.slug not in existing:
            parent = existing.get(seed.parent) if seed.parent else None
            team = Team(
                slug=seed.slug, name_zh=seed.name_zh, name_en=seed.name_en, parent_id=parent.id if parent else None
            )
            session.add(team)
            session.flush()
            existing[seed.slug] = team
            added += 1
    if added:
        rights.changed(session, None)
        teams.forget_cached(session)
    if session.scalar(select(RoutingRuleRow.id).limit(1)) is None:
        for position, rule in enumerate(load_rules(default_rule_dicts())):
            session.add(RoutingRuleRow(id=rule.id, body=rule.to_dict(), position=position, updated_at=utcnow()))
            added += 1
        session.flush()
    return added
