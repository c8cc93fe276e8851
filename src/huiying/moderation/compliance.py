"""Compliance escalation (SPEC §9): a ticket about a privacy leak or illegal content goes to the
security & legal team at once, urgent, due within 2 hours, and an alert is sent.

A reaction to ticket events, so `tickets` knows nothing about it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from huiying import events, jobs
from huiying.accounts.models import Team
from huiying.alerts import service as alerts
from huiying.db import Database
from huiying.kit.actor import SYSTEM
from huiying.kit.clock import utcnow
from huiying.tickets import history, intake, service
from huiying.tickets.enums import Priority
from huiying.tickets.models import Ticket

TRIGGERS = frozenset({"privacy-leak", "illegal-content"})
FLAG_TAG = "compliance"
DEADLINE = timedelta(hours=2)
LEGAL_TEAM = "security"
JOB = "compliance_alert"


# Where alerts go: handed in at wiring time from the app's settings (`configure`), so
# `create_app(settings)` decides, not the process environment.
_webhook_url: str | None = None


def configure(*, webhook_url: str | None) -> None:
    """Install the robot webhook alerts are posted to (None: alerts are only recorded)."""
    global _webhook_url
    _webhook_url = webhook_url


def needs_escalation(ticket: Ticket) -> bool:
    signals = set(ticket.tags) | {ticket.subcategory or ""}
    return bool(signals & TRIGGERS) and FLAG_TAG not in ticket.tags


def escalate(session: Session, ticket: Ticket) -> None:
    """Route to the legal team, make urgent, due in 2 hours, tag, record and alert."""
    now = utcnow()
    team = session.scalar(select(Team).where(Team.slug == LEGAL_TEAM))
    service.add_tags(session, ticket, tags=[FLAG_TAG], actor=SYSTEM)
    service.set_priority(session, ticket, priority=Priority.URGENT, actor=SYSTEM)
    if team is not None and ticket.team_id != team.id:
        service.assign(session, ticket, team=team, assignee=None, actor=SYSTEM)
    due = now + DEADLINE
    service.expedite(session, ticket, resolution_due=due, escalation_level=1, actor=SYSTEM)
    reasons = sorted((set(ticket.tags) | {ticket.subcategory or ""}) & TRIGGERS)
    history.record(
        session,
        ticket=ticket,
        actor=SYSTEM,
        action="compliance_escalated",
        data={"reasons": reasons, "due": due.isoformat(), "team": LEGAL_TEAM},
        at=now,
    )
    jobs.enqueue(session, JOB, {"ticket_id": ticket.id})


def _on_ticket_event(session: Session, event: events.Event) -> None:
    ticket = intake.being_created(session, event.ticket_id)
    if ticket is not None and needs_escalation(ticket):
        escalate(session, ticket)


def register_jobs() -> None:
    jobs.register(JOB, send_alert)


def install() -> None:
    events.subscribe_in_transaction(events.TicketCreated, _on_ticket_event)
    events.subscribe_in_transaction(events.TicketChanged, _on_ticket_event)


def alert_texts(ticket: Ticket) -> tuple[str, str]:
    """The alert in Chinese and in English."""
    reason = ticket.subcategory or ",".join(ticket.tags)
    return (
        f"【合规上报 Compliance】工单 {ticket.number}（{reason}）需在2小时内上报法务/安全团队。",
        f"Ticket {ticket.number} must reach legal/security within 2 hours.",
    )


def alert_text(ticket: Ticket) -> str:
    return "".join(alert_texts(ticket))


def send_alert(db: Database, payload: dict[str, Any]) -> None:
    """Job: post the alert to the configured robot webhook (WeCom/DingTalk/Feishu-style JSON)."""
    url = _webhook_url
    with db.read() as session:
        ticket = session.get(Ticket, int(payload["ticket_id"]))
        if ticket is None:
            return
        text = alert_text(ticket)
        number = ticket.number
    if url:
        # One body that the three robot formats accept or ignore gracefully.
        body = {
            "msgtype": "text",
            "text": {"content": text},
            "msg_type": "text",
            "content": {"text": text},
        }
        httpx.post(url, json=body, timeout=10).raise_for_status()
    with db.write() as session:
        ticket = session.get_one(Ticket, int(payload["ticket_id"]))
        history.record(
            session,
            ticket=ticket,
            actor=SYSTEM,
            action="compliance_alert_sent",
            data={"webhook": bool(url), "ticket": number},
        )
        # And through the staff alert robots of the legal team (urgent: at once, any hour). The
        # webhook above stays for installs configured with it (and its tests).
        text_zh, text_en = alert_texts(ticket)
        alerts.alert_staff(
            session,
            kind="compliance",
            text_zh=text_zh,
            text_en=text_en,
            team_id=ticket.team_id,
            ticket_id=ticket.id,
            urgent=True,
        )
