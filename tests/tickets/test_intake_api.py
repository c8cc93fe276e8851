"""Public intake: POST /api/v1/feedback."""

from __future__ import annotations

import re
import uuid

from fastapi.testclient import TestClient
from sqlalchemy import select

from conftest import TEST_SECRET, StaffLogin, login
from helpers import counts, feedback, submit
from huiying.accounts.models import Team
from huiying.bootstrap import ensure_defaults
from huiying.config import Settings
from huiying.db import Database
from huiying.kit.actor import SYSTEM
from huiying.kit.roles import Role
from huiying.tickets import intake
from huiying.tickets.models import Ticket
from huiying.tickets.schemas import FeedbackIn

NUMBER = re.compile(r"^HY\d{6}-\d{4,}$")


def test_feedback_becomes_a_ticket_with_a_number_and_portal_link(
    app_client: TestClient, admin: StaffLogin, db: Database
) -> None:
    agent = login(app_client, db, email="tech.agent@example.com", role=Role.AGENT, teams=["tech-support"])
    created = submit(app_client)
    assert NUMBER.match(created["number"])
    assert created["status"] == "new"
    assert created["portal_url"].startswith("http://127.0.0.1:8000/portal/t/")
    assert created["created_at"].endswith(("Z", "+00:00"))

    ticket = app_client.get(f"/api/v1/tickets/{created['number']}", headers=admin.headers).json()
    assert ticket["description"] == feedback()["description"]
    assert ticket["category"] == "technical"
    assert ticket["subcategory"] == "payment-failure"
    assert ticket["device"] == {"os": "iOS 17.4", "model": "iPhone 13"}
    assert ticket["links"] == {"order_no": "DD202611230001"}
    assert ticket["channel"] == "app"
    assert ticket["priority"] == "medium"
    assert ticket["contact"] == "13812345678"  # an admin may see personal data
    assert ticket["team"] == "tech-server"  # routing: a payment failure goes to the server group
    seen_by_agent = app_client.get(f"/api/v1/tickets/{created['number']}", headers=agent.headers).json()
    assert seen_by_agent["contact"] == "138****5678"


def test_numbers_are_consecutive_within_a_day(app_client: TestClient) -> None:
    first = submit(app_client)["number"]
    second = submit(app_client)["number"]
    prefix, sequence = first.rsplit("-", 1)
    assert second == f"{prefix}-{int(sequence) + 1:04d}"


def test_title_is_generated_from_the_description_when_missing(app_client: TestClient, admin: StaffLogin) -> None:
    body = feedback(
        description="直播间一直卡顿，画面转圈，声音和画面不同步，换了网络也一样没有用处。\n第二行",
        title=None,
    )
    number = submit(app_client, body)["number"]
    title = app_client.get(f"/api/v1/tickets/{number}", headers=admin.headers).json()["title"]
    assert title.startswith("直播间一直卡顿")
    assert title.endswith("…")
    assert "第二行" not in title


def test_a_retry_with_the_same_key_returns_the_same_ticket(app_client: TestClient, db: Database) -> None:
    key = str(uuid.uuid4())
    first = app_client.post("/api/v1/feedback", json=feedback(), headers={"Idempotency-Key": key})
    before = counts(db)
    again = app_client.post("/api/v1/feedback", json=feedback(), headers={"Idempotency-Key": key})
    assert first.status_code == again.status_code == 201
    assert again.json()["number"] == first.json()["number"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert counts(db) == before


def test_the_same_key_with_another_body_is_refused(app_client: TestClient, db: Database) -> None:
    key = str(uuid.uuid4())
    assert app_client.post("/api/v1/feedback", json=feedback(), headers={"Idempotency-Key": key}).status_code == 201
    before = counts(db)
    answer = app_client.post(
        "/api/v1/feedback",
        json=feedback(description="完全不同的内容"),
        headers={"Idempotency-Key": key},
    )
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "idempotency_key_reused"
    assert counts(db) == before


def test_the_same_channel_message_twice_makes_one_ticket(app_client: TestClient, db: Database) -> None:
    body = feedback(source_ref="app-feedback-778899")
    first = submit(app_client, body)
    second = submit(app_client, body)  # a new Idempotency-Key: a different delivery of the same message
    assert first["number"] == second["number"]
    assert counts(db)[0] == 1


def test_a_malformed_idempotency_key_is_refused(app_client: TestClient) -> None:
    answer = app_client.post("/api/v1/feedback", json=feedback(), headers={"Idempotency-Key": "x" * 300})
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "invalid_idempotency_key"


def test_malformed_json_is_a_400_that_says_so(app_client: TestClient, db: Database) -> None:
    answer = app_client.post(
        "/api/v1/feedback",
        content=b'{"description": "unterminated',
        headers={"content-type": "application/json"},
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "malformed_json"
    assert counts(db) == (0, 0)


def test_wrong_types_and_unknown_values_are_422_naming_the_field(app_client: TestClient, db: Database) -> None:
    cases = [
        (feedback(vip="maybe"), "vip"),
        (feedback(channel="carrier-pigeon"), "channel"),
        (feedback(description=""), "description"),
        (feedback(attachments=["../../etc/passwd"]), "attachments"),
        (feedback(links={"order_no": "1", "evil": "x"}), "links"),
        (feedback(frequency="hourly"), "frequency"),
        (feedback(surprise=True), "surprise"),
        ([1, 2, 3], "body"),
    ]
    for body, field in cases:
        answer = app_client.post("/api/v1/feedback", json=body)
        assert answer.status_code == 422, (field, answer.text)
        error = answer.json()["error"]
        assert error["code"] == "validation_error"
        assert field in error["message"] or any(field in d["field"] for d in error["details"]), error
    assert counts(db) == (0, 0)


def test_unknown_category_is_422_listing_the_allowed_ones(app_client: TestClient, db: Database) -> None:
    answer = app_client.post("/api/v1/feedback", json=feedback(category="gossip", subcategory=None))
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["code"] == "unknown_category"
    assert "technical" in error["details"]["allowed"]
    wrong_child = app_client.post("/api/v1/feedback", json=feedback(category="content", subcategory="refund"))
    assert wrong_child.status_code == 422
    assert counts(db) == (0, 0)


def test_an_oversized_body_is_413(app_client: TestClient, db: Database) -> None:
    huge = feedback(description="长" * 700_000)  # about 2 MiB of UTF-8, over the 1 MiB limit
    answer = app_client.post("/api/v1/feedback", json=huge)
    assert answer.status_code == 413
    assert answer.json()["error"]["code"] == "payload_too_large"
    assert counts(db) == (0, 0)


def test_an_oversized_chunked_body_without_length_is_413(app_client: TestClient, db: Database) -> None:
    def chunks():  # type: ignore[no-untyped-def]
        yield b'{"description": "'
        for _ in range(40):
            yield b"x" * 65536
        yield b'"}'

    answer = app_client.post("/api/v1/feedback", content=chunks(), headers={"content-type": "application/json"})
    assert answer.status_code == 413
    assert counts(db) == (0, 0)


def test_control_characters_and_lone_surrogates_are_cleaned_not_500(app_client: TestClient, admin: StaffLogin) -> None:
    raw = '{"description": "bad\\u0000byte \\ud800 end", "title": "t\\u0007itle"}'
    answer = app_client.post("/api/v1/feedback", content=raw.encode(), headers={"content-type": "application/json"})
    assert answer.status_code == 201, answer.text
    ticket = app_client.get(f"/api/v1/tickets/{answer.json()['number']}", headers=admin.headers).json()
    assert "\x00" not in ticket["description"]
    assert ticket["description"].startswith("badbyte")
    assert ticket["title"] == "title"


def test_anonymous_callers_may_not_pick_staff_channels_or_priority(app_client: TestClient, db: Database) -> None:
    assert app_client.post("/api/v1/feedback", json=feedback(channel="hotline")).status_code == 403
    assert app_client.post("/api/v1/feedback", json=feedback(priority="urgent")).status_code == 403
    assert counts(db) == (0, 0)


def test_staff_may_log_feedback_from_any_channel(app_client: TestClient, admin: StaffLogin) -> None:
    body = feedback(channel="hotline", priority="high", tags=["回访"])
    answer = app_client.post("/api/v1/feedback", json=body, headers=admin.headers)
    assert answer.status_code == 201
    ticket = app_client.get(f"/api/v1/tickets/{answer.json()['number']}", headers=admin.headers).json()
    assert (ticket["channel"], ticket["priority"], ticket["tags"]) == ("hotline", "high", ["回访"])


def test_the_creation_is_on_the_timeline(app_client: TestClient, admin: StaffLogin) -> None:
    number = submit(app_client)["number"]
    events = app_client.get(f"/api/v1/tickets/{number}/timeline", headers=admin.headers).json()["events"]
    # Routing then moves it to its team, and says by which rule.
    assert [(e["action"], e["field"]) for e in events] == [
        ("created", None),
        ("field_changed", "team"),
        ("routed", None),
    ]
    assert events[0]["actor_type"] == "user"


def test_a_created_ticket_reads_back_as_stored_in_its_own_session(db: Database) -> None:
    """Intake writes the row with plain INSERTs and hands the entity to the session: what that
    session then holds (defaults, tags, a team set afterwards) is what a fresh read finds."""
    with db.write() as session:
        ensure_defaults(session)
    settings = Settings(database_url=db.url, secret_key=TEST_SECRET)
    submission = FeedbackIn(description="充值没到账", tags=["vip-call", "refund"])
    with db.write() as session:
        ticket = intake.create_ticket(session, feedback=submission, actor=SYSTEM, settings=settings).ticket
        assert ticket.escalation_level == 0
        ticket.team = session.scalars(select(Team).where(Team.active)).first()
        session.flush()
        in_session = (ticket.team_id, ticket.escalation_level, ticket.resolution_due, sorted(ticket.tags))
    with db.read() as session:
        stored = session.get(Ticket, ticket.id)
        assert stored is not None
        assert (stored.team_id, stored.escalation_level, stored.resolution_due, sorted(stored.tags)) == in_session
    assert in_session[0] is not None and in_session[3] == ["refund", "vip-call"]
