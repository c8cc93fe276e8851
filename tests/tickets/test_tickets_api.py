"""Staff ticket API: list, get, patch, status, replies, timeline, merge."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from conftest import StaffLogin, login
from helpers import counts, feedback, submit
from huiying.db import Database
from huiying.kit.roles import Role
from huiying.worker.runner import run_due


def _get(client: TestClient, admin: StaffLogin, number: str) -> dict[str, Any]:
    answer = client.get(f"/api/v1/tickets/{number}", headers=admin.headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _actions(client: TestClient, admin: StaffLogin, number: str) -> list[str]:
    events = client.get(f"/api/v1/tickets/{number}/timeline", headers=admin.headers).json()["events"]
    return [e["action"] for e in events]


def test_staff_endpoints_need_a_valid_token(app_client: TestClient) -> None:
    number = submit(app_client)["number"]
    for headers in (
        {},
        {"Authorization": "Bearer hy_not-a-real-token-at-all-xxxxxxxx"},
        {"Authorization": "Bearer " + "a" * 5000},
    ):
        answer = app_client.get(f"/api/v1/tickets/{number}", headers=headers)
        assert answer.status_code == 401, headers
        assert answer.json()["error"]["code"] in ("unauthenticated", "bad_token")
    assert app_client.get("/api/v1/tickets", headers={}).status_code == 401


def test_wrong_password_gets_no_token(app_client: TestClient, admin: StaffLogin) -> None:
    answer = app_client.post("/api/v1/auth/token", json={"email": admin.email, "password": "wrong password!"})
    assert answer.status_code == 401
    unknown = app_client.post("/api/v1/auth/token", json={"email": "nobody@example.com", "password": "whatever12"})
    assert unknown.status_code == 401
    assert answer.json()["error"]["message"] == unknown.json()["error"]["message"]


def test_unknown_ticket_is_404(app_client: TestClient, admin: StaffLogin) -> None:
    answer = app_client.get("/api/v1/tickets/HY000000-9999", headers=admin.headers)
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "unknown_ticket"


def test_numbers_are_found_however_they_are_typed(app_client: TestClient, admin: StaffLogin) -> None:
    number = submit(app_client)["number"]
    loose = number.lower().replace("-", "")
    assert _get(app_client, admin, loose)["number"] == number


def test_list_filters_and_cursor_pagination(app_client: TestClient, admin: StaffLogin) -> None:
    numbers = [submit(app_client)["number"] for _ in range(5)]
    other = submit(app_client, feedback(category="suggestion", subcategory="feature-request"))["number"]
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"category": "technical", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = app_client.get("/api/v1/tickets", params=params, headers=admin.headers).json()
        seen += [t["number"] for t in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == list(reversed(numbers))  # newest first, each exactly once
    assert other not in seen

    oldest_first = app_client.get("/api/v1/tickets", params={"sort": "created"}, headers=admin.headers).json()
    assert oldest_first["items"][0]["number"] == numbers[0]


def test_status_filter_accepts_lists_and_refuses_unknown_values(app_client: TestClient, admin: StaffLogin) -> None:
    a = submit(app_client)["number"]
    b = submit(app_client)["number"]
    app_client.post(f"/api/v1/tickets/{b}/status", json={"status": "open"}, headers=admin.headers)
    only_new = app_client.get("/api/v1/tickets?status=new", headers=admin.headers).json()["items"]
    assert [t["number"] for t in only_new] == [a]
    both = app_client.get("/api/v1/tickets?status=new,open", headers=admin.headers).json()["items"]
    assert {t["number"] for t in both} == {a, b}
    bad = app_client.get("/api/v1/tickets?status=new,lost", headers=admin.headers)
    assert bad.status_code == 422
    assert "lost" in bad.json()["error"]["message"]


def test_bad_filters_are_4xx_not_500(app_client: TestClient, admin: StaffLogin) -> None:
    for query in (
        "limit=0",
        "limit=100000",
        "cursor=%%%not-base64",
        "cursor=WzEsMiwzXQ",  # valid base64 of a JSON list
        "sla=whenever",
        "sort=random",
        "created_from=yesterday",
        "priority=asap",
        "vip=perhaps",
    ):
        answer = app_client.get(f"/api/v1/tickets?{query}", headers=admin.headers)
        assert 400 <= answer.status_code < 500, (query, answer.status_code, answer.text)
        assert "error" in answer.json()


def test_full_text_search_in_chinese_and_english(app_client: TestClient, admin: StaffLogin) -> None:
    pay = submit(app_client, feedback(title="充值失败", description="充值会员时支付失败，钱被扣了"))["number"]
    lag = submit(
        app_client,
        feedback(title="直播卡顿", description="看直播一直卡顿转圈", subcategory="stream-lag"),
    )["number"]
    crash = submit(
        app_client,
        feedback(
            title="App crashes",
            description="The app crashes when I open matches",
            subcategory="crash",
        ),
    )["number"]

    def search(q: str) -> list[str]:
        answer = app_client.get("/api/v1/tickets", params={"q": q}, headers=admin.headers)
        assert answer.status_code == 200, answer.text
        return [t["number"] for t in answer.json()["items"]]

    assert search("支付失败") == [pay]
    assert search("卡顿") == [lag]
    assert search("CRASHES") == [crash]
    assert search("matches crashes") == [crash]
    assert search("退款") == []
    assert search(pay) == [pay]
    assert search('"); DROP TABLE tickets; --') == []
    assert search("*") == []


def test_patch_changes_fields_and_records_each(app_client: TestClient, admin: StaffLogin, db: Database) -> None:
    login(app_client, db, email="agent@example.com", role=Role.AGENT, teams=["finance"])
    number = submit(app_client)["number"]
    answer = app_client.patch(
        f"/api/v1/tickets/{number}",
        json={
            "priority": "urgent",
            "team": "finance",
            "assignee": "agent@example.com",
            "tags": ["退款", "vip跟进"],
            "title": "重复扣款",
        },
        headers=admin.headers,
    )
    assert answer.status_code == 200, answer.text
    ticket = answer.json()
    assert (ticket["priority"], ticket["team"], ticket["assignee"], ticket["title"]) == (
        "urgent",
        "finance",
        "agent@example.com",
        "重复扣款",
    )
    assert sorted(ticket["tags"]) == ["vip跟进", "退款"]
    events = app_client.get(f"/api/v1/tickets/{number}/timeline", headers=admin.headers).json()["events"]
    # Routing moved it at intake (its own event); the admin's PATCH is one event per field.
    by_admin = [e for e in events if e["action"] == "field_changed" and e["actor"] == "admin"]
    changed = {e["field"]: (e["old"], e["new"]) for e in by_admin}
    assert changed["priority"] == ("medium", "urgent")
    assert changed["team"] == ("tech-server", "finance")
    assert changed["assignee"] == (None, "agent@example.com")
    assert len(by_admin) == len(changed)

    cleared = app_client.patch(f"/api/v1/tickets/{number}", json={"assignee": None}, headers=admin.headers).json()
    assert cleared["assignee"] is None and cleared["team"] == "finance"


def test_patch_with_unknown_values_changes_nothing(app_client: TestClient, admin: StaffLogin, db: Database) -> None:
    number = submit(app_client)["number"]
    before = counts(db)
    for patch in (
        {"team": "no-such-team"},
        {"assignee": "ghost@example.com"},
        {"category": "nonsense"},
        {"priority": "whenever"},
        {"status": "closed"},
    ):
        answer = app_client.patch(
            f"/api/v1/tickets/{number}", json={"priority": "high", **patch}, headers=admin.headers
        )
        assert answer.status_code in (404, 422), (patch, answer.text)
    assert counts(db) == before
    assert _get(app_client, admin, number)["priority"] == "medium"


def test_category_change_drops_a_subcategory_of_the_old_category(app_client: TestClient, admin: StaffLogin) -> None:
    number = submit(app_client)["number"]
    ticket = app_client.patch(
        f"/api/v1/tickets/{number}", json={"category": "commercial"}, headers=admin.headers
    ).json()
    assert (ticket["category"], ticket["subcategory"]) == ("commercial", None)


def test_status_flow_and_illegal_moves(app_client: TestClient, admin: StaffLogin, db: Database) -> None:
    number = submit(app_client)["number"]

    def move(status: str) -> Any:
        return app_client.post(
            f"/api/v1/tickets/{number}/status",
            json={"status": status, "note": f"to {status}"},
            headers=admin.headers,
        )

    assert move("open").json()["status"] == "open"
    assert move("pending").json()["status"] == "pending"
    resolved = move("resolved").json()
    assert resolved["status"] == "resolved" and resolved["resolved_at"]
    closed = move("closed").json()
    assert closed["status"] == "closed" and closed["closed_at"]

    before = counts(db)
    refused = move("pending")
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "illegal_transition"
    assert error["details"]["allowed"] == ["open"]
    assert counts(db) == before
    assert move("merged").status_code == 409
    assert move("lost").status_code == 422

    reopened = move("open").json()
    assert reopened["status"] == "open" and reopened["reopen_count"] == 1 and reopened["closed_at"] is None
    assert _actions(app_client, admin, number).count("status_changed") == 5


def test_public_reply_goes_out_through_the_channel(app_client: TestClient, admin: StaffLogin, db: Database) -> None:
    number = submit(app_client)["number"]
    answer = app_client.post(
        f"/api/v1/tickets/{number}/replies",
        json={"body": "您好，已为您退款。"},
        headers=admin.headers,
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["delivery"] == "queued"
    ticket = _get(app_client, admin, number)
    assert ticket["status"] == "open"  # answering a new ticket starts work on it
    assert ticket["first_responded_at"] is not None

    assert run_due(db) == 1
    messages = app_client.get(f"/api/v1/tickets/{number}/messages", headers=admin.headers).json()
    # An app ticket's reply is published on the user's portal page; no in-app push is configured,
    # and the deliveries say so (tests/channels/test_delivery.py has every channel).
    assert messages[0]["delivery"] == "sent"
    deliveries = app_client.get(f"/api/v1/tickets/{number}/deliveries", headers=admin.headers).json()["items"]
    assert [(d["channel"], d["status"]) for d in deliveries] == [("portal", "sent"), ("inapp", "suppressed")]
    assert "reply_delivered" in _actions(app_client, admin, number)
    assert run_due(db) == 0  # nothing is sent twice


def test_internal_note_is_not_sent_and_does_not_count_as_response(
    app_client: TestClient, admin: StaffLogin, db: Database
) -> None:
    number = submit(app_client)["number"]
    note = app_client.post(
        f"/api/v1/tickets/{number}/replies",
        json={"body": "内部备注", "internal": True},
        headers=admin.headers,
    )
    assert note.status_code == 201 and note.json()["kind"] == "note" and note.json()["delivery"] == "not_needed"
    ticket = _get(app_client, admin, number)
    assert ticket["status"] == "new" and ticket["first_responded_at"] is None
    assert run_due(db) == 0


def test_no_public_reply_on_a_closed_ticket(app_client: TestClient, admin: StaffLogin) -> None:
    number = submit(app_client)["number"]
    app_client.post(f"/api/v1/tickets/{number}/status", json={"status": "closed"}, headers=admin.headers)
    answer = app_client.post(f"/api/v1/tickets/{number}/replies", json={"body": "hello"}, headers=admin.headers)
    assert answer.status_code == 409
    assert (
        app_client.post(
            f"/api/v1/tickets/{number}/replies",
            json={"body": "note", "internal": True},
            headers=admin.headers,
        ).status_code
        == 201
    )


def test_merge_keeps_both_histories(app_client: TestClient, admin: StaffLogin) -> None:
    first = submit(app_client, feedback(tags=[]))["number"]
    second = submit(app_client)["number"]
    app_client.patch(f"/api/v1/tickets/{second}", json={"tags": ["重复反馈"]}, headers=admin.headers)
    app_client.post(
        f"/api/v1/tickets/{second}/replies",
        json={"body": "note on the duplicate", "internal": True},
        headers=admin.headers,
    )

    answer = app_client.post(f"/api/v1/tickets/{second}/merge", json={"into": first}, headers=admin.headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["number"] == first
    assert "重复反馈" in answer.json()["tags"]

    merged = _get(app_client, admin, second)
    assert merged["status"] == "merged" and merged["merged_into"] == first
    timeline = app_client.get(f"/api/v1/tickets/{first}/timeline", headers=admin.headers).json()["events"]
    assert {e["ticket"] for e in timeline} == {first, second}
    assert "merged_from" in [e["action"] for e in timeline]
    messages = app_client.get(f"/api/v1/tickets/{first}/messages", headers=admin.headers).json()
    assert [m["body"] for m in messages] == ["note on the duplicate"]

    assert (
        app_client.post(f"/api/v1/tickets/{second}/replies", json={"body": "x"}, headers=admin.headers).status_code
        == 409
    )
    assert (
        app_client.post(f"/api/v1/tickets/{first}/merge", json={"into": first}, headers=admin.headers).status_code
        == 409
    )
    assert (
        app_client.post(f"/api/v1/tickets/{second}/merge", json={"into": first}, headers=admin.headers).status_code
        == 409
    )
    assert (
        app_client.post(
            f"/api/v1/tickets/{first}/merge", json={"into": "HY000000-0000"}, headers=admin.headers
        ).status_code
        == 404
    )


def test_same_person_tickets_match_by_user_id_or_contact(app_client: TestClient, db: Database) -> None:
    from huiying.tickets import repository

    first = submit(app_client, feedback(user_id="u-same", contact="13900000001"))["number"]
    by_user = submit(app_client, feedback(user_id="u-same", contact="13900000002"))["number"]
    by_contact = submit(app_client, feedback(user_id="u-other", contact="139 0000 0001"))["number"]
    submit(app_client, feedback(user_id="u-stranger", contact="13900000003"))
    anonymous = submit(app_client, feedback(user_id=None, contact=None))["number"]

    with db.read() as session:
        ticket = repository.get_by_number(session, first)
        found = [t.number for t in repository.same_person_tickets(session, ticket, limit=10)]
        assert found == [by_contact, by_user]  # newest first, never the ticket itself
        assert [t.number for t in repository.same_person_tickets(session, ticket, limit=1)] == [by_contact]
        assert repository.same_person_tickets(session, repository.get_by_number(session, anonymous), limit=10) == []
