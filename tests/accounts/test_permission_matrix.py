"""Every role against every API route: allowed, refused (403), or not visible (404).

The expectations are written out here by hand, independently of accounts/access.py, and a
route that is missing from this table fails the test.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from conftest import StaffLogin, login
from helpers import feedback, submit
from huiying.channels.models import MessageDelivery
from huiying.db import Database
from huiying.jobs.models import OutboxJob
from huiying.kit.roles import Role

ROLES = list(Role)
A, S, SU, AD, QA, AU = (Role.AGENT, Role.SENIOR, Role.SUPERVISOR, Role.ADMIN, Role.QA, Role.AUDITOR)
READERS = {A, S, SU, AD, QA}
WRITERS = {A, S, SU, AD}
EVERYONE = set(ROLES)
# Roles limited to their own teams' tickets (the others see every team).
TEAM_SCOPED = {A, S, SU}

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6364f8cf500f0003860180"
    "5a347d6b0000000049454e44ae426082"
)


def mailbox() -> dict[str, Any]:
    name = f"matrix-{uuid.uuid4().hex[:8]}"
    return {"name": name, "host": "127.0.0.1", "port": 1, "username": name, "password": "x", "security": "plain-local"}


@dataclass
class World:
    client: TestClient
    db: Database
    admin: StaffLogin
    # Who sends the request being built (set by the test before each build): for the routes whose
    # answer depends on the person, not only the role (accept: only the assignee).
    requester: StaffLogin | None = None

    def ticket(self, team: str | None = "tech-support", status: str | None = None) -> str:
        number = submit(self.client, feedback(description=f"matrix {uuid.uuid4()}"))["number"]
        # Routing gives a new ticket a team: set the case's own (None: unrouted) by hand.
        moved = self.client.patch(f"/api/v1/tickets/{number}", json={"team": team}, headers=self.admin.headers)
        assert moved.status_code == 200 and moved.json()["team"] == team, moved.text
        if status:
            self.client.post(
                f"/api/v1/tickets/{number}/status",
                json={"status": status},
                headers=self.admin.headers,
            )
        return number

    def attachment(self, team: str) -> str:
        stored = self.client.post("/api/v1/attachments", files={"file": ("a.png", PNG, "image/png")}).json()
        number = submit(self.client, feedback(attachments=[stored["id"]]))["number"]
        self.client.patch(f"/api/v1/tickets/{number}", json={"team": team}, headers=self.admin.headers)
        return str(stored["id"])

    def staff_email(self) -> str:
        email = f"s{uuid.uuid4().hex[:8]}@example.com"
        self.client.post(
            "/api/v1/staff",
            json={"email": email, "role": "agent", "password": "long password 123"},
            headers=self.admin.headers,
        )
        return email

    def team_member_email(self, team: str = "tech-support") -> str:
        """An agent of `team` (the matrix's staff are of tech-support, so its supervisor manages them)."""
        email = f"m{uuid.uuid4().hex[:8]}@example.com"
        created = self.client.post(
            "/api/v1/staff",
            json={"email": email, "role": "agent", "password": "long password 123", "teams": [team]},
            headers=self.admin.headers,
        )
        assert created.status_code == 201, created.text
        return email

    def assigned_to_requester(self, team: str) -> str:
        """A ticket of `team` given to the requester when they may work it; otherwise (qa, auditor,
        a team they cannot see) the assignment is refused and the ticket stays unassigned."""
        number = self.ticket(team)
        assert self.requester is not None
        self.client.patch(
            f"/api/v1/tickets/{number}", json={"assignee": self.requester.email}, headers=self.admin.headers
        )
        return number

    def routing_rule_id(self) -> str:
        rule_id = f"matrix-{uuid.uuid4().hex[:8]}"
        created = self.client.post(
            "/api/v1/routing/rules",
            json={"id": rule_id, **ROUTING_DRAFT},
            headers=self.admin.headers,
        )
        assert created.status_code == 201, created.text
        return rule_id

    def routing_rule_ids(self) -> list[str]:
        listed = self.client.get("/api/v1/routing/rules", headers=self.admin.headers)
        return [rule["id"] for rule in listed.json()["items"]]

    def robot_id(self) -> int:
        created = self.client.post("/api/v1/alerts/robots", json=ROBOT, headers=self.admin.headers)
        assert created.status_code == 201, created.text
        return int(created.json()["id"])

    def quarantine_id(self) -> int:
        """An open entry of the mail quarantine (a mail that is no mail), fresh for each case."""
        from huiying.channels.email.service import import_one

        raw = f"not a mail {uuid.uuid4()}".encode()
        outcome = import_one(self.db, raw, source="matrix", settings=self.client.app.state.settings)
        assert outcome.quarantine_id is not None, outcome
        return outcome.quarantine_id

    def mailbox_id(self) -> int:
        """A mailbox of its own (nothing listens on port 1: a test of it answers quickly)."""
        answer = self.client.post("/api/v1/mail/mailboxes", json=mailbox(), headers=self.admin.headers)
        assert answer.status_code == 201, answer.text
        return int(answer.json()["id"])

    def api_key_id(self) -> int:
        answer = self.client.post(
            "/api/v1/api-keys",
            json={"name": "app", "user": self.admin.email, "scopes": ["ticket:create"]},
            headers=self.admin.headers,
        )
        return int(answer.json()["id"])

    def freeze_id(self) -> int:
        answer = self.client.post(
            "/api/v1/moderation/freezes",
            json={"target_type": "account", "target_id": uuid.uuid4().hex, "reason": "test"},
            headers=self.admin.headers,
        )
        return int(answer.json()["id"])

    def compensation_path(self, team: str) -> str:
        """The decision route of a fresh proposal (by the matrix's admin, so nobody decides their own)."""
        number = self.ticket(team)
        made = self.client.post(
            f"/api/v1/tickets/{number}/compensations",
            json={"kind": "coupon", "amount": 5},
            headers=self.admin.headers,
        )
        assert made.status_code == 201, made.text
        return f"/api/v1/compensations/{made.json()['id']}/decision"

    def dead_job_id(self) -> int:
        with self.db.write() as session:
            row = OutboxJob(job="deliver_message", payload={"message_id": 0}, state="dead", attempts=8)
            session.add(row)
            session.flush()
            return row.id


# A rule that matches nothing the matrix submits and sends it where routing already would.
ROUTING_DRAFT = {"name": "矩阵", "when": {"keywords": ["矩阵规则"]}, "then": {"team": "general"}}
ROBOT = {"kind": "wecom", "url": "http://127.0.0.1:9/cgi-bin/webhook/send?key=matrix", "teams": ["tech-support"]}
# A year no ticket of the test falls in, so loading its notice changes no due time.
NOTICE = {"rows": [{"date": "2031-01-01", "kind": "rest", "name": "元旦"}]}

Request = tuple[str, str, dict[str, Any]]
Builder = Callable[[World, bool], Request]


@dataclass(frozen=True)
class Case:
    method: str
    route: str
    allowed: set[Role]
    build: Builder
    team_scoped: bool = False  # a ticket of another team answers 404 to TEAM_SCOPED roles


def _ticket_path(suffix: str = "", *, status: str | None = None) -> Builder:
    def build(world: World, other_team: bool) -> Request:
        number = world.ticket("finance" if other_team else "tech-support", status=status)
        return "", f"/api/v1/tickets/{number}{suffix}", {}

    return build


def _with_json(builder: Builder, body: dict[str, Any] | Callable[[World], dict[str, Any]]) -> Builder:
    def build(world: World, other_team: bool) -> Request:
        _, path, _ = builder(world, other_team)
        return "", path, {"json": body(world) if callable(body) else body}

    return build


def _fixed(path: str, **kwargs: Any) -> Builder:
    return lambda world, other: ("", path, kwargs)


def _call_body() -> dict[str, Any]:
    # A number nobody called from yet: each request makes a new hotline ticket.
    return {"caller": f"135{uuid.uuid4().int % 10**8:08d}", "summary": "来电"}


def _hotline_callback(world: World, other_team: bool) -> Request:
    body = feedback(channel="hotline", user_id=None, description=f"matrix call {uuid.uuid4()}")
    number = submit(world.client, body, **world.admin.headers)["number"]
    team = "finance" if other_team else "tech-support"
    world.client.patch(f"/api/v1/tickets/{number}", json={"team": team}, headers=world.admin.headers)
    return "", f"/api/v1/callbacks/{number}/outcome", {}


def _sent_delivery(world: World, other_team: bool) -> Request:
    """A ticket with a reply delivered (on the portal): the delivery staff may send again."""
    number = world.ticket("finance" if other_team else "tech-support")
    reply = world.client.post(f"/api/v1/tickets/{number}/replies", json={"body": "您好"}, headers=world.admin.headers)
    assert reply.status_code == 201, reply.text
    with world.db.write() as session:
        row = session.scalars(
            select(MessageDelivery).where(
                MessageDelivery.message_id == reply.json()["id"], MessageDelivery.channel == "portal"
            )
        ).one()
        row.status = "sent"
        delivery_id = row.id
    return "", f"/api/v1/tickets/{number}/deliveries/{delivery_id}/resend", {}


def _suggestion(world: World, team: str) -> tuple[str, int]:
    """A suggestion ticket of `team`, alone in a new group of the pool (its words are its own)."""
    mark = uuid.uuid4().hex
    body = feedback(title=f"矩阵建议 {mark}", description=mark, category="suggestion", subcategory="feature-request")
    number = str(submit(world.client, body)["number"])
    world.client.patch(f"/api/v1/tickets/{number}", json={"team": team}, headers=world.admin.headers)
    found = world.client.get(f"/api/v1/suggestions?q={mark}", headers=world.admin.headers).json()["items"]
    assert len(found) == 1, found
    return number, int(found[0]["id"])


def _suggestion_group(suffix: str = "", **kwargs: Any) -> Builder:
    return lambda w, o: ("", f"/api/v1/suggestions/{_suggestion(w, 'tech-support')[1]}{suffix}", kwargs)


def _suggestion_move(world: World, other_team: bool) -> Request:
    _, target = _suggestion(world, "tech-support")
    number, _ = _suggestion(world, "finance" if other_team else "tech-support")
    return "", f"/api/v1/suggestions/{target}/members", {"json": {"ticket": number}}


def _suggestion_split(world: World, other_team: bool) -> Request:
    number, _ = _suggestion(world, "finance" if other_team else "tech-support")
    return "", "/api/v1/suggestions", {"json": {"ticket": number}}


CASES = [
    Case("GET", "/api/v1/me", EVERYONE, _fixed("/api/v1/me")),
    Case("GET", "/api/v1/teams", READERS, _fixed("/api/v1/teams")),
    Case(
        "POST",
        "/api/v1/teams",
        {AD},
        lambda w, o: (
            "",
            "/api/v1/teams",
            {"json": {"slug": f"t{uuid.uuid4().hex[:6]}", "name_zh": "新组", "name_en": "New"}},
        ),
    ),
    Case(
        "PATCH",
        "/api/v1/teams/{slug}",
        {AD},
        _fixed("/api/v1/teams/general", json={"name_en": "General service"}),
    ),
    Case(
        "PUT",
        "/api/v1/teams/{slug}/members/{email}",
        {SU, AD},
        lambda w, o: ("", f"/api/v1/teams/tech-support/members/{w.staff_email()}", {}),
    ),
    Case(
        "DELETE",
        "/api/v1/teams/{slug}/members/{email}",
        {SU, AD},
        lambda w, o: ("", f"/api/v1/teams/tech-support/members/{w.staff_email()}", {}),
    ),
    Case("GET", "/api/v1/staff", {AD}, _fixed("/api/v1/staff")),
    Case(
        "POST",
        "/api/v1/staff",
        {AD},
        lambda w, o: (
            "",
            "/api/v1/staff",
            {
                "json": {
                    "email": f"n{uuid.uuid4().hex[:6]}@example.com",
                    "role": "agent",
                    "password": "long password 123",
                }
            },
        ),
    ),
    Case(
        "PATCH",
        "/api/v1/staff/{email}",
        {AD},
        lambda w, o: ("", f"/api/v1/staff/{w.staff_email()}", {"json": {"display_name": "改名"}}),
    ),
    Case("GET", "/api/v1/api-keys", {AD}, _fixed("/api/v1/api-keys")),
    Case(
        "POST",
        "/api/v1/api-keys",
        {AD},
        lambda w, o: (
            "",
            "/api/v1/api-keys",
            {"json": {"name": "k", "user": w.admin.email, "scopes": ["ticket:create"]}},
        ),
    ),
    Case(
        "DELETE",
        "/api/v1/api-keys/{key_id}",
        {AD},
        lambda w, o: ("", f"/api/v1/api-keys/{w.api_key_id()}", {}),
    ),
    Case("GET", "/api/v1/tickets", READERS, _fixed("/api/v1/tickets")),
    Case("GET", "/api/v1/tickets/{number}", READERS, _ticket_path(), team_scoped=True),
    Case(
        "PATCH",
        "/api/v1/tickets/{number}",
        WRITERS,
        _with_json(_ticket_path(), {"priority": "high"}),
        team_scoped=True,
    ),
    Case(
        "POST",
        "/api/v1/tickets/{number}/status",
        WRITERS,
        _with_json(_ticket_path("/status"), {"status": "open"}),
        team_scoped=True,
    ),
    Case(
        "POST",
        "/api/v1/tickets/{number}/replies",
        WRITERS,
        _with_json(_ticket_path("/replies"), {"body": "您好"}),
        team_scoped=True,
    ),
    Case(
        "GET",
        "/api/v1/tickets/{number}/messages",
        READERS,
        _ticket_path("/messages"),
        team_scoped=True,
    ),
    Case(
        "GET",
        "/api/v1/tickets/{number}/timeline",
        READERS,
        _ticket_path("/timeline"),
        team_scoped=True,
    ),
    Case(
        "GET",
        "/api/v1/tickets/{number}/deliveries",
        READERS,
        _ticket_path("/deliveries"),
        team_scoped=True,
    ),
    Case(
        "GET",
        "/api/v1/tickets/{number}/attachments",
        READERS,
        _ticket_path("/attachments"),
        team_scoped=True,
    ),
    Case(
        "POST",
        "/api/v1/tickets/{number}/merge",
        {S, SU, AD},
        _with_json(_ticket_path("/merge"), lambda w: {"into": w.ticket("tech-support")}),
        team_scoped=True,
    ),
    Case(
        "POST",
        "/api/v1/tickets/{number}/qa-reviews",
        {QA},
        _with_json(_ticket_path("/qa-reviews", status="resolved"), {"score": 90}),
        team_scoped=True,
    ),
    Case(
        "GET",
        "/api/v1/tickets/{number}/qa-reviews",
        {SU, AD, QA},
        _ticket_path("/qa-reviews"),
        team_scoped=True,
    ),
    Case(
        "GET",
        "/api/v1/tickets/{number}/compensations",
        READERS,
        _ticket_path("/compensations"),
        team_scoped=True,
    ),
    Case(
        "POST",
        "/api/v1/tickets/{number}/compensations",
        WRITERS,
        _with_json(_ticket_path("/compensations"), {"kind": "coupon", "amount": 20}),
        team_scoped=True,
    ),
    Case(
        "POST",
        "/api/v1/compensations/{compensation_id}/decision",
        {SU, AD},
        lambda w, o: ("", w.compensation_path("finance" if o else "tech-support"), {"json": {"approve": True}}),
        team_scoped=True,
    ),
    Case("GET", "/api/v1/reports/compensation", {SU, AD}, _fixed("/api/v1/reports/compensation")),
    Case("GET", "/api/v1/reports/satisfaction", {SU, AD, QA}, _fixed("/api/v1/reports/satisfaction")),
    Case("GET", "/api/v1/reports/qa", {SU, AD, QA}, _fixed("/api/v1/reports/qa")),
    Case("GET", "/api/v1/qa/samples", {SU, AD, QA}, _fixed("/api/v1/qa/samples")),
    Case("POST", "/api/v1/qa/samples", {SU, AD, QA}, _fixed("/api/v1/qa/samples", json={})),
    Case(
        "GET",
        "/api/v1/attachments/{attachment_id}",
        READERS,
        lambda w, o: (
            "",
            f"/api/v1/attachments/{w.attachment('finance' if o else 'tech-support')}",
            {},
        ),
        team_scoped=True,
    ),
    Case(
        "POST",
        "/api/v1/moderation/freezes",
        {S, SU, AD},
        lambda w, o: (
            "",
            "/api/v1/moderation/freezes",
            {
                "json": {
                    "target_type": "account",
                    "target_id": uuid.uuid4().hex,
                    "reason": "涉嫌诈骗",
                }
            },
        ),
    ),
    Case("GET", "/api/v1/moderation/freezes", {S, SU, AD}, _fixed("/api/v1/moderation/freezes")),
    Case(
        "POST",
        "/api/v1/moderation/freezes/{freeze_id}/lift",
        {S, SU, AD},
        lambda w, o: (
            "",
            f"/api/v1/moderation/freezes/{w.freeze_id()}/lift",
            {"json": {"reason": "核实无误"}},
        ),
    ),
    Case(
        "POST",
        "/api/v1/privacy/export",
        {AD},
        _fixed("/api/v1/privacy/export", json={"user_id": "u10001"}),
    ),
    Case(
        "POST",
        "/api/v1/privacy/erase",
        {AD},
        _fixed("/api/v1/privacy/erase", json={"user_id": "u-nobody"}),
    ),
    Case("GET", "/api/v1/triage/rules", {AD}, _fixed("/api/v1/triage/rules")),
    Case(
        "PUT",
        "/api/v1/triage/rules/{rule_id}",
        {AD},
        _fixed("/api/v1/triage/rules/matrix-rule", json={"name": "m", "any_of": ["矩阵"], "priority": "low"}),
    ),
    Case("DELETE", "/api/v1/triage/rules/{rule_id}", {AD}, _fixed("/api/v1/triage/rules/bug")),
    Case(
        "POST",
        "/api/v1/triage/rules/test",
        {AD},
        _fixed("/api/v1/triage/rules/test", json={"id": "t", "name": "t", "any_of": ["支付"], "priority": "high"}),
    ),
    Case("GET", "/api/v1/triage/models", {AD}, _fixed("/api/v1/triage/models")),
    Case(
        "POST",
        "/api/v1/triage/models/{target}/{version}/activate",
        {AD},
        _fixed("/api/v1/triage/models/sentiment/0/activate"),
    ),
    Case("POST", "/api/v1/triage/assess", {AD}, _fixed("/api/v1/triage/assess", json={"text": "支付失败"})),
    Case("GET", "/api/v1/jobs", {AD}, _fixed("/api/v1/jobs")),
    Case("POST", "/api/v1/jobs/{job_id}/retry", {AD}, lambda w, o: ("", f"/api/v1/jobs/{w.dead_job_id()}/retry", {})),
    # Issue 18: routing, alert robots, calendars and SLA policies are configuration (admins).
    Case("GET", "/api/v1/routing/rules", {AD}, _fixed("/api/v1/routing/rules")),
    Case(
        "POST",
        "/api/v1/routing/rules",
        {AD},
        lambda w, o: ("", "/api/v1/routing/rules", {"json": {"id": f"m-{uuid.uuid4().hex[:8]}", **ROUTING_DRAFT}}),
    ),
    Case(
        "PATCH",
        "/api/v1/routing/rules/{rule_id}",
        {AD},
        lambda w, o: ("", f"/api/v1/routing/rules/{w.routing_rule_id()}", {"json": {"enabled": False}}),
    ),
    Case(
        "DELETE",
        "/api/v1/routing/rules/{rule_id}",
        {AD},
        lambda w, o: ("", f"/api/v1/routing/rules/{w.routing_rule_id()}", {}),
    ),
    Case(
        "PUT",
        "/api/v1/routing/rules/order",
        {AD},
        lambda w, o: ("", "/api/v1/routing/rules/order", {"json": {"ids": w.routing_rule_ids()}}),
    ),
    Case("POST", "/api/v1/routing/rules/test", {AD}, _fixed("/api/v1/routing/rules/test", json=ROUTING_DRAFT)),
    Case("GET", "/api/v1/alerts/robots", {AD}, _fixed("/api/v1/alerts/robots")),
    Case("POST", "/api/v1/alerts/robots", {AD}, _fixed("/api/v1/alerts/robots", json=ROBOT)),
    Case(
        "PATCH",
        "/api/v1/alerts/robots/{robot_id}",
        {AD},
        lambda w, o: ("", f"/api/v1/alerts/robots/{w.robot_id()}", {"json": {"teams": ["finance"]}}),
    ),
    Case(
        "DELETE",
        "/api/v1/alerts/robots/{robot_id}",
        {AD},
        lambda w, o: ("", f"/api/v1/alerts/robots/{w.robot_id()}", {}),
    ),
    Case("GET", "/api/v1/mail/quarantine", {AD}, _fixed("/api/v1/mail/quarantine")),
    *(
        Case(
            "POST",
            f"/api/v1/mail/quarantine/{{entry_id}}/{action}",
            {AD},
            lambda w, o, action=action: ("", f"/api/v1/mail/quarantine/{w.quarantine_id()}/{action}", {}),
        )
        for action in ("retry", "ticket", "drop")
    ),
    Case("GET", "/api/v1/mail/mailboxes", {AD}, _fixed("/api/v1/mail/mailboxes")),
    Case("POST", "/api/v1/mail/mailboxes", {AD}, lambda w, o: ("", "/api/v1/mail/mailboxes", {"json": mailbox()})),
    *(
        Case(
            method,
            "/api/v1/mail/mailboxes/{account_id}",
            {AD},
            lambda w, o, body=body: ("", f"/api/v1/mail/mailboxes/{w.mailbox_id()}", body),
        )
        for method, body in (("GET", {}), ("PATCH", {"json": {"enabled": False}}), ("DELETE", {}))
    ),
    Case(
        "POST",
        "/api/v1/mail/mailboxes/{account_id}/test",
        {AD},
        lambda w, o: ("", f"/api/v1/mail/mailboxes/{w.mailbox_id()}/test", {}),
    ),
    Case("GET", "/api/v1/calendars", {AD}, _fixed("/api/v1/calendars")),
    Case(
        "POST",
        "/api/v1/calendars/notice",
        {AD},
        _fixed("/api/v1/calendars/notice", json=NOTICE),
    ),
    Case("GET", "/api/v1/sla/policies", {AD}, _fixed("/api/v1/sla/policies")),
    Case(
        "POST",
        "/api/v1/sla/policies",
        {AD},
        lambda w, o: (
            "",
            "/api/v1/sla/policies",
            {
                "json": {
                    "slug": f"m-{uuid.uuid4().hex[:8]}",
                    "name_zh": "矩阵",
                    "name_en": "Matrix",
                    "category": "matrix-none",
                    "first_response_minutes": 60,
                    "resolution_minutes": 600,
                    "active": False,
                }
            },
        ),
    ),
    Case(
        "PATCH",
        "/api/v1/sla/policies/{slug}",
        {AD},
        _fixed("/api/v1/sla/policies/low", json={"name_en": "Low (suggestions)"}),
    ),
    # Availability: every role that works tickets sets its own (qa and auditors are given no work).
    Case("PUT", "/api/v1/me/availability", WRITERS, _fixed("/api/v1/me/availability", json={"availability": "away"})),
    # A supervisor manages the members of their teams (an admin anyone): the member built here is
    # of the supervisor's team. Someone of another team is a 403, not a 404 (a person, not a
    # ticket), so team_scoped does not apply; tests/assignment covers that refusal.
    Case(
        "PUT",
        "/api/v1/staff/{email}/availability",
        {SU, AD},
        lambda w, o: ("", f"/api/v1/staff/{w.team_member_email()}/availability", {"json": {"availability": "away"}}),
    ),
    Case(
        "PUT",
        "/api/v1/staff/{email}/skills",
        {SU, AD},
        lambda w, o: ("", f"/api/v1/staff/{w.team_member_email()}/skills", {"json": {"skills": ["zh", "payment"]}}),
    ),
    Case(
        "GET",
        "/api/v1/staff/{email}/work-state",
        {SU, AD},
        lambda w, o: ("", f"/api/v1/staff/{w.team_member_email()}/work-state", {}),
    ),
    Case(
        "POST",
        "/api/v1/tickets/{number}/escalate",
        WRITERS,
        _with_json(_ticket_path("/escalate"), {"reason": "用户多次来电"}),
        team_scoped=True,
    ),
    # Only the assignee confirms receipt: the ticket is given to the requester first (by an admin),
    # so every role that works tickets succeeds on its own ticket; qa and auditors cannot be given
    # one and are refused (403) as roles. Another team's ticket cannot be given to a team-scoped
    # role and is a 404 for it. A writer who is not the assignee gets 409 not_assignee, which the
    # matrix (allowed / 403 / 404) cannot express: tests/assignment checks it.
    Case(
        "POST",
        "/api/v1/tickets/{number}/accept",
        WRITERS,
        lambda w, o: ("", f"/api/v1/tickets/{w.assigned_to_requester('finance' if o else 'tech-support')}/accept", {}),
        team_scoped=True,
    ),
    Case("GET", "/api/v1/audit", {AU}, _fixed("/api/v1/audit")),
    Case("GET", "/api/v1/audit/export", {AU}, _fixed("/api/v1/audit/export")),
    Case("GET", "/api/v1/audit/verify", {AU}, _fixed("/api/v1/audit/verify")),
    Case("GET", "/api/v1/callbacks", WRITERS, _fixed("/api/v1/callbacks")),
    Case("POST", "/api/v1/calls", WRITERS, lambda w, o: ("", "/api/v1/calls", {"json": _call_body()})),
    Case(
        "POST",
        "/api/v1/callbacks/{number}/outcome",
        WRITERS,
        _with_json(_hotline_callback, {"outcome": "not_reached"}),
        team_scoped=True,
    ),
    # Notices: working a ticket tells its user of a delay or that it cannot be solved, and may
    # send a delivery again; the notices' wording is configuration.
    Case(
        "POST",
        "/api/v1/tickets/{number}/delay",
        WRITERS,
        _with_json(_ticket_path("/delay"), {"reason": "需要技术排查", "expected_at": "2099-01-01T10:00:00+08:00"}),
        team_scoped=True,
    ),
    Case(
        "POST",
        "/api/v1/tickets/{number}/unsolvable",
        WRITERS,
        _with_json(_ticket_path("/unsolvable"), {"reason": "系统限制", "alternative": "请使用网页版"}),
        team_scoped=True,
    ),
    Case("POST", "/api/v1/tickets/{number}/deliveries/{delivery_id}/resend", WRITERS, _sent_delivery, team_scoped=True),
    Case("GET", "/api/v1/notice-templates", {AD}, _fixed("/api/v1/notice-templates")),
    Case(
        "PUT",
        "/api/v1/notice-templates/{kind}/{language}",
        {AD},
        _fixed(
            "/api/v1/notice-templates/taken/en",
            json={"subject": "On it", "body": "{number} is ours.", "short": "On it"},
        ),
    ),
    Case("DELETE", "/api/v1/notice-templates/{kind}/{language}", {AD}, _fixed("/api/v1/notice-templates/taken/en")),
    # The suggestion pool: every ticket reader sees it and may +1; product staff (suggestion:decide)
    # decide; moving a ticket between groups is working that ticket (team-scoped).
    Case("GET", "/api/v1/suggestions", READERS, _fixed("/api/v1/suggestions")),
    Case("GET", "/api/v1/suggestions/{group_id}", READERS, _suggestion_group()),
    Case("POST", "/api/v1/suggestions/{group_id}/votes", READERS, _suggestion_group("/votes")),
    Case("DELETE", "/api/v1/suggestions/{group_id}/votes", READERS, _suggestion_group("/votes")),
    Case(
        "POST",
        "/api/v1/suggestions/{group_id}/decision",
        {SU, AD},
        _suggestion_group("/decision", json={"status": "planned", "timeline": "2027 Q1"}),
    ),
    Case("POST", "/api/v1/suggestions/{group_id}/members", WRITERS, _suggestion_move, team_scoped=True),
    Case("POST", "/api/v1/suggestions", WRITERS, _suggestion_split, team_scoped=True),
]

PUBLIC = {
    ("POST", "/api/v1/feedback"),
    ("POST", "/api/v1/surveys/{token}"),  # the user's answer, by the ticket's signed link
    ("POST", "/api/v1/attachments"),
    ("GET", "/api/v1/categories"),
    ("POST", "/api/v1/auth/token"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
}
ANY_STAFF = {("POST", "/api/v1/auth/logout")}


def test_every_api_route_is_in_the_matrix(app_client: TestClient) -> None:
    covered = {(c.method, c.route) for c in CASES} | PUBLIC | ANY_STAFF
    paths = app_client.get("/openapi.json").json()["paths"]
    routes = {(method.upper(), path) for path, methods in paths.items() for method in methods}
    assert routes - covered == set(), "add these routes to the permission matrix"
    assert covered - routes == set(), "the matrix lists routes that do not exist"


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
def test_each_role_on_each_route(app_client: TestClient, db: Database, admin: StaffLogin) -> None:
    world = World(app_client, db, admin)
    staff = {
        role: login(
            app_client,
            db,
            email=f"{role.value}.matrix@example.com",
            role=role,
            teams=["tech-support"],
        )
        for role in ROLES
    }
    failures = []
    for case, role in itertools.product(CASES, ROLES):
        world.requester = staff[role]
        _, path, kwargs = case.build(world, False)
        answer = app_client.request(case.method, path, headers=staff[role].headers, **kwargs)
        allowed = role in case.allowed
        if allowed and not (200 <= answer.status_code < 300):
            failures.append(
                f"{role.value} {case.method} {case.route}: expected success, got {answer.status_code} {answer.text[:120]}"
            )
        if not allowed and answer.status_code != 403:
            failures.append(f"{role.value} {case.method} {case.route}: expected 403, got {answer.status_code}")
        if case.team_scoped and allowed:
            _, path, kwargs = case.build(world, True)
            outside = app_client.request(case.method, path, headers=staff[role].headers, **kwargs)
            expected = 404 if role in TEAM_SCOPED else None
            if expected and outside.status_code != expected:
                failures.append(
                    f"{role.value} {case.method} {case.route} other team: expected 404, got {outside.status_code}"
                )
            if not expected and not (200 <= outside.status_code < 300):
                failures.append(
                    f"{role.value} {case.method} {case.route} other team: expected success, got {outside.status_code}"
                )
    assert failures == []


def test_logout_revokes_the_token(app_client: TestClient, db: Database) -> None:
    agent = login(app_client, db, email="leaving@example.com", role=Role.AGENT)
    assert app_client.get("/api/v1/me", headers=agent.headers).status_code == 200
    assert app_client.post("/api/v1/auth/logout", headers=agent.headers).status_code == 204
    assert app_client.get("/api/v1/me", headers=agent.headers).status_code == 401


def test_unrouted_tickets_are_visible_to_every_reader(app_client: TestClient, db: Database, admin: StaffLogin) -> None:
    agent = login(app_client, db, email="network@example.com", role=Role.AGENT, teams=["tech-network"])
    world = World(app_client, db, admin)
    unrouted = world.ticket(team=None)
    parent = world.ticket(team="tech-support")
    sub_team = world.ticket(team="tech-network")
    assert app_client.get(f"/api/v1/tickets/{unrouted}", headers=agent.headers).status_code == 200
    assert app_client.get(f"/api/v1/tickets/{sub_team}", headers=agent.headers).status_code == 200
    assert app_client.get(f"/api/v1/tickets/{parent}", headers=agent.headers).status_code == 404
    listed = {t["number"] for t in app_client.get("/api/v1/tickets", headers=agent.headers).json()["items"]}
    assert listed == {unrouted, sub_team}

    lead = login(app_client, db, email="lead@example.com", role=Role.SUPERVISOR, teams=["tech-support"])
    assert app_client.get(f"/api/v1/tickets/{sub_team}", headers=lead.headers).status_code == 200  # sub-teams too
