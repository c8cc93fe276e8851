"""The suggestion pool (SPEC.md §5): a suggestion joins a group of similar ones when it is created
or re-categorised so, counted by distinct users; staff +1 a group once; product staff decide
(planned needs a timeline, declined a reason) and every user of the group is told once through
their channel. On SQLite and PostgreSQL, through the HTTP API and the page."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from conftest import StaffLogin, admin_browser, login
from helpers import feedback, submit
from huiying.channels.models import MessageDelivery
from huiying.db import Database
from huiying.kit.clock import frozen
from huiying.kit.roles import Role
from huiying.suggestions import service
from huiying.tickets.models import Ticket
from huiying.worker import runner

DAYTIME = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)  # a Wednesday, 10:00 in Beijing


def _suggest(client: TestClient, admin: StaffLogin, text: str, **overrides: Any) -> str:
    body = feedback(
        title=text,
        description=text,
        category="suggestion",
        subcategory=overrides.pop("subcategory", "feature-request"),
        user_id=overrides.pop("user_id", f"u{uuid.uuid4().hex[:8]}"),
        links=None,
        **overrides,
    )
    return str(submit(client, body, **admin.headers)["number"])


def _mail_suggestion(client: TestClient, admin: StaffLogin, text: str, contact: str) -> str:
    """A suggestion that came by mail: its user is told by mail (a delivery row per notice)."""
    return _suggest(
        client,
        admin,
        text,
        channel="email",
        user_id=None,
        contact=contact,
        source_ref=f"<{uuid.uuid4().hex}@mail.example.com>",
        device=None,
        app_version=None,
    )


def _groups(client: TestClient, who: StaffLogin, query: str = "") -> list[dict[str, Any]]:
    answer = client.get(f"/api/v1/suggestions{query}", headers=who.headers)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


def _group_of(client: TestClient, admin: StaffLogin, number: str) -> dict[str, Any]:
    for item in _groups(client, admin):
        detail = client.get(f"/api/v1/suggestions/{item['id']}", headers=admin.headers).json()
        if number in [m["number"] for m in detail["members"]]:
            return dict(detail)
    raise AssertionError(f"{number} is in no group")


def _actions(client: TestClient, admin: StaffLogin, number: str) -> list[str]:
    events = client.get(f"/api/v1/tickets/{number}/timeline", headers=admin.headers).json()["events"]
    return [e["action"] for e in events]


def _suggestion_notices(db: Database, number: str) -> list[tuple[str, str]]:
    with db.read() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.number == number)).one()
        rows = session.scalars(
            select(MessageDelivery).where(MessageDelivery.ticket_id == ticket.id, MessageDelivery.kind == "suggestion")
        )
        return sorted((row.notice_key or "", row.channel) for row in rows)


def _decide(client: TestClient, who: StaffLogin, group_id: int, **body: Any) -> Any:
    return client.post(f"/api/v1/suggestions/{group_id}/decision", json=body, headers=who.headers)


def test_similar_suggestions_share_a_group_counted_by_distinct_users(app_client: TestClient, admin: StaffLogin) -> None:
    assert _groups(app_client, admin) == []
    night = _suggest(app_client, admin, "希望增加夜间模式", user_id="u1")
    _suggest(app_client, admin, "能不能加个深色模式", user_id="u2")
    _suggest(app_client, admin, "建议支持暗黑主题", user_id="u3")
    _suggest(app_client, admin, "深色模式什么时候上线", user_id="u3")  # the same user again
    video = _suggest(app_client, admin, "希望增加视频通话", user_id="u4")
    _suggest(app_client, admin, "夜间模式怎么打开", subcategory="question")  # a question, not a suggestion
    submit(app_client, feedback(), **admin.headers)  # a payment problem

    items = _groups(app_client, admin)
    assert [(g["title"], g["users"], g["tickets"], g["status"], g["votes"]) for g in items] == [
        ("希望增加夜间模式", 3, 4, "open", 0),
        ("希望增加视频通话", 1, 1, "open", 0),
    ]
    assert _groups(app_client, admin, "?q=视频")[0]["title"] == "希望增加视频通话"
    assert _groups(app_client, admin, "?status=planned") == []
    assert "suggestion_pooled" in _actions(app_client, admin, night)
    assert _group_of(app_client, admin, video)["members"][0]["number"] == video


def test_a_ticket_recategorised_into_a_suggestion_joins_and_out_of_it_leaves(
    app_client: TestClient, admin: StaffLogin
) -> None:
    first = _suggest(app_client, admin, "希望增加夜间模式")
    other = submit(
        app_client, feedback(title="希望有深色模式", description="晚上太亮了，希望有深色模式"), **admin.headers
    )
    number = other["number"]
    assert [g["tickets"] for g in _groups(app_client, admin)] == [1]

    moved = app_client.patch(
        f"/api/v1/tickets/{number}",
        json={"category": "suggestion", "subcategory": "feature-request"},
        headers=admin.headers,
    )
    assert moved.status_code == 200, moved.text
    assert [g["tickets"] for g in _groups(app_client, admin)] == [2]
    assert {m["number"] for m in _group_of(app_client, admin, first)["members"]} == {first, number}
    # Changing the sub-category within suggestions keeps it where it is: once per ticket.
    app_client.patch(f"/api/v1/tickets/{number}", json={"subcategory": None}, headers=admin.headers)
    assert [g["tickets"] for g in _groups(app_client, admin)] == [2]
    assert _actions(app_client, admin, number).count("suggestion_pooled") == 1

    app_client.patch(
        f"/api/v1/tickets/{number}", json={"category": "suggestion", "subcategory": "question"}, headers=admin.headers
    )
    assert [g["tickets"] for g in _groups(app_client, admin)] == [1]
    assert "suggestion_left" in _actions(app_client, admin, number)


def test_a_merged_suggestion_leaves_and_an_emptied_group_goes(app_client: TestClient, admin: StaffLogin) -> None:
    kept = _suggest(app_client, admin, "希望增加视频通话")
    lone = _suggest(app_client, admin, "希望增加夜间模式")
    into = submit(app_client, feedback(), **admin.headers)["number"]
    answer = app_client.post(f"/api/v1/tickets/{lone}/merge", json={"into": into}, headers=admin.headers)
    assert answer.status_code == 200, answer.text
    assert [g["title"] for g in _groups(app_client, admin)] == ["希望增加视频通话"]
    assert _group_of(app_client, admin, kept)["tickets"] == 1


def test_a_staff_vote_counts_once_and_can_be_withdrawn(
    app_client: TestClient, admin: StaffLogin, agent: StaffLogin
) -> None:
    _suggest(app_client, admin, "希望增加夜间模式")
    [group] = _groups(app_client, admin)
    path = f"/api/v1/suggestions/{group['id']}/votes"
    assert app_client.post(path, headers=admin.headers).json() == {"id": group["id"], "votes": 1, "voted": True}
    assert app_client.post(path, headers=admin.headers).json()["votes"] == 1  # a second +1 is the same vote
    assert app_client.post(path, headers=agent.headers).json() == {"id": group["id"], "votes": 2, "voted": True}
    assert app_client.delete(path, headers=admin.headers).json() == {"id": group["id"], "votes": 1, "voted": False}
    assert app_client.delete(path, headers=admin.headers).json()["votes"] == 1
    [listed] = _groups(app_client, agent)
    assert (listed["votes"], listed["voted"]) == (1, True)


def test_a_decision_is_checked_and_only_product_staff_may_make_it(
    app_client: TestClient, admin: StaffLogin, agent: StaffLogin, db: Database
) -> None:
    number = _suggest(app_client, admin, "希望增加夜间模式")
    group_id = _groups(app_client, admin)[0]["id"]

    planned = _decide(app_client, admin, group_id, status="planned")
    assert planned.status_code == 422
    assert planned.json()["error"]["code"] == "timeline_required"
    declined = _decide(app_client, admin, group_id, status="declined", reason="   ")
    assert declined.status_code == 422 and declined.json()["error"]["code"] == "reason_required"
    assert _decide(app_client, admin, group_id, status="maybe").status_code == 422
    assert _decide(app_client, agent, group_id, status="adopted").status_code == 403
    assert _decide(app_client, admin, 99_999, status="adopted").status_code == 404
    assert app_client.get("/api/v1/suggestions/0", headers=admin.headers).status_code == 422
    assert app_client.get(f"/api/v1/suggestions/{10**30}", headers=admin.headers).status_code == 422
    assert _groups(app_client, admin)[0]["status"] == "open"  # nothing was written by the refusals
    assert "suggestion_decided" not in _actions(app_client, admin, number)

    lead = login(app_client, db, email="product.lead@example.com", role=Role.SUPERVISOR)
    answer = _decide(app_client, lead, group_id, status="planned", timeline="2027 Q1", reason="ignored")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["status"], body["timeline"], body["reason"], body["decided_by"]) == (
        "planned",
        "2027 Q1",
        None,
        "product.lead@example.com",
    )


def test_every_user_of_the_group_is_told_each_outcome_once(
    app_client: TestClient, admin: StaffLogin, db: Database
) -> None:
    with frozen(DAYTIME):  # out of quiet hours: a notice is due at once
        _told_once(app_client, admin, db)


def _told_once(app_client: TestClient, admin: StaffLogin, db: Database) -> None:
    one = _mail_suggestion(app_client, admin, "希望增加夜间模式", "li.lei@example.com")
    two = _mail_suggestion(app_client, admin, "能不能加个深色模式", "han.meimei@example.com")
    group_id = _group_of(app_client, admin, one)["id"]
    assert _group_of(app_client, admin, two)["id"] == group_id
    assert _suggestion_notices(db, one) == []

    assert _decide(app_client, admin, group_id, status="planned", timeline="预计两个月内").status_code == 200
    key = f"sg:{group_id}:planned"
    assert _suggestion_notices(db, one) == [(key, "email")]
    assert _suggestion_notices(db, two) == [(key, "email")]
    assert "suggestion_decided" in _actions(app_client, admin, one)

    # The same decision again, and a new timeline for the same outcome, tell nobody again.
    assert _decide(app_client, admin, group_id, status="planned", timeline="预计两个月内").status_code == 200
    assert _decide(app_client, admin, group_id, status="planned", timeline="2027 Q1").status_code == 200
    assert _suggestion_notices(db, one) == [(key, "email")]

    # A suggestion joining the decided group hears the standing outcome at once.
    # (A new ticket's notice rows are made by the delivery job: it is not written while it joins.)
    late = _mail_suggestion(app_client, admin, "建议支持暗黑主题", "wang.fang@example.com")
    while runner.run_due(db) > 0:
        pass
    assert _suggestion_notices(db, late) == [(key, "email")]
    with db.read() as session:
        told = select(MessageDelivery).join(Ticket, Ticket.id == MessageDelivery.ticket_id)
        row = session.scalars(told.where(Ticket.number == late, MessageDelivery.notice_key == key)).one()
        assert row.detail == {"outcome": "planned", "timeline": "2027 Q1", "reason": ""}  # what stands now

    # Adopted is news: each user is told once more.
    assert _decide(app_client, admin, group_id, status="adopted").status_code == 200
    adopted = f"sg:{group_id}:adopted"
    for number in (one, two, late):
        assert _suggestion_notices(db, number) == sorted([(key, "email"), (adopted, "email")])


def test_staff_move_a_suggestion_to_another_group_or_split_it_out(app_client: TestClient, admin: StaffLogin) -> None:
    night = _suggest(app_client, admin, "希望增加夜间模式")
    video = _suggest(app_client, admin, "希望增加视频通话")
    # As close to both: the older group takes it, where staff think it does not belong.
    misfit = _suggest(app_client, admin, "夜间模式下视频通话太暗")
    night_group = _group_of(app_client, admin, night)["id"]
    video_group = _group_of(app_client, admin, video)["id"]
    assert _group_of(app_client, admin, misfit)["id"] == night_group

    answer = app_client.post(
        f"/api/v1/suggestions/{video_group}/members", json={"ticket": misfit}, headers=admin.headers
    )
    assert answer.status_code == 200, answer.text
    assert {m["number"] for m in answer.json()["members"]} == {video, misfit}
    assert "suggestion_moved" in _actions(app_client, admin, misfit)

    split = app_client.post("/api/v1/suggestions", json={"ticket": misfit}, headers=admin.headers)
    assert split.status_code == 201, split.text
    assert split.json()["tickets"] == 1 and split.json()["id"] not in (night_group, video_group)
    assert sorted(g["tickets"] for g in _groups(app_client, admin)) == [1, 1, 1]

    # The last ticket moved out of a group takes the group with it.
    app_client.post(f"/api/v1/suggestions/{video_group}/members", json={"ticket": night}, headers=admin.headers)
    assert night_group not in [g["id"] for g in _groups(app_client, admin)]

    payment = submit(app_client, feedback(), **admin.headers)["number"]
    refused = app_client.post(
        f"/api/v1/suggestions/{video_group}/members", json={"ticket": payment}, headers=admin.headers
    )
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "not_a_suggestion"


def test_the_pool_page_lists_groups_and_takes_a_decision(
    app_client: TestClient, admin: StaffLogin, db: Database
) -> None:
    number = _suggest(app_client, admin, "希望增加夜间模式")
    _suggest(app_client, admin, "能不能加个深色模式")
    group_id = _groups(app_client, admin)[0]["id"]
    browser = admin_browser(app_client, db)

    listing = browser.get("/suggestions")
    assert listing.status_code == 200
    assert "建议池" in listing.text and "希望增加夜间模式" in listing.text
    assert 'href="/suggestions"' in listing.text  # the nav links it
    row = re.search(rf'data-group="{group_id}">(.*?)</tr>', listing.text, re.S)
    assert row and '<td class="users">2</td>' in row.group(1)

    page = browser.get(f"/suggestions/{group_id}")
    assert page.status_code == 200 and number in page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token

    refused = browser.post(
        f"/suggestions/{group_id}/decision", data={"status": "declined", "csrf_token": token.group(1)}
    )
    assert refused.status_code == 200 and "不采纳须填写原因" in refused.text
    no_csrf = browser.post(f"/suggestions/{group_id}/decision", data={"status": "adopted"})
    assert no_csrf.status_code == 403

    saved = browser.post(
        f"/suggestions/{group_id}/decision",
        data={"status": "declined", "reason": "与产品方向不符", "csrf_token": token.group(1)},
    )
    assert saved.status_code == 200 and "与产品方向不符" in saved.text
    assert _groups(app_client, admin)[0]["status"] == "declined"

    voted = browser.post(f"/suggestions/{group_id}/vote", data={"on": "1", "csrf_token": token.group(1)})
    assert voted.status_code == 200 and "取消赞同" in voted.text
    english = browser.get("/suggestions?lang=en")
    assert "Suggestion pool" in english.text and "Declined" in english.text


def test_an_erased_users_suggestion_leaves_the_pool_and_the_group_title_with_it(
    app_client: TestClient, admin: StaffLogin, db: Database
) -> None:
    erased = _suggest(app_client, admin, "希望增加夜间模式", user_id="u-erase")
    _suggest(app_client, admin, "能不能加个深色模式", user_id="u-other")
    answer = app_client.post("/api/v1/privacy/erase", json={"user_id": "u-erase"}, headers=admin.headers)
    assert answer.status_code == 200, answer.text
    # The erasure took it out of the pool (privacy/dsr.py calls suggestions.forget): nothing left.
    with db.write() as session:
        ticket_id = session.scalars(select(Ticket.id).where(Ticket.number == erased)).one()
        assert service.forget(session, ticket_ids=[ticket_id]) == 0
    [group] = _groups(app_client, admin)
    assert (group["title"], group["users"], group["tickets"]) == ("能不能加个深色模式", 1, 1)
