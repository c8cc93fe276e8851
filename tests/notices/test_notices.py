"""Notices: which steps tell the user, once per key; quiet hours make proactive ones wait; a delay
and "cannot be solved" carry their words; staff resend; admins reword (bad placeholders refused)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from conftest import StaffLogin
from helpers import feedback, submit
from huiying.channels import registry
from huiying.channels.base import Delivered, Outgoing
from huiying.channels.models import MessageDelivery
from huiying.db import Database
from huiying.kit.clock import frozen
from huiying.notices import overdue, quiet, wording
from huiying.worker import runner

# 10:00 in Beijing (UTC+8): outside the default quiet hours 22:00-08:00.
DAY = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)
NIGHT = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)  # 23:00 in Beijing


class Texts:
    """A stand-in SMS gateway: records what it was asked to send."""

    name = "sms"

    def __init__(self) -> None:
        self.sent: list[Outgoing] = []

    def deliver(self, outgoing: Outgoing) -> Delivered:
        self.sent.append(outgoing)
        return Delivered(external_id=f"t-{outgoing.delivery_id}")


@pytest.fixture
def texts() -> Iterator[Texts]:
    """Every ticket's user hears of every notice by this channel."""
    sender = Texts()
    registry.register("sms", sender)
    registry.register_notices("sms", lambda session, ticket, kind: True)
    yield sender
    registry.register("sms", None)
    registry._notice_wants.pop("sms", None)


def _ticket(client: TestClient, admin: StaffLogin) -> str:
    return str(submit(client, feedback(description="充值的金币没有到账，已经两天了"), **admin.headers)["number"])


def _status(client: TestClient, admin: StaffLogin, number: str, status: str) -> None:
    answer = client.post(f"/api/v1/tickets/{number}/status", json={"status": status}, headers=admin.headers)
    assert answer.status_code == 200, answer.text


def _sms(client: TestClient, admin: StaffLogin, number: str) -> list[dict[str, Any]]:
    items = client.get(f"/api/v1/tickets/{number}/deliveries", headers=admin.headers).json()["items"]
    return [d for d in items if d["channel"] == "sms"]


def test_each_step_tells_the_user_once(app_client: TestClient, admin: StaffLogin, db: Database, texts: Texts) -> None:
    with frozen(DAY):
        number = _ticket(app_client, admin)
    with frozen(DAY + timedelta(minutes=1)):  # the list sorts by time: the clock is frozen
        _status(app_client, admin, number, "open")
        _status(app_client, admin, number, "pending")
        _status(app_client, admin, number, "open")
        _status(app_client, admin, number, "pending")
        _status(app_client, admin, number, "resolved")
        _status(app_client, admin, number, "closed")  # after resolved: nothing new
        while runner.run_due(db):
            pass
        runner.run_due(db)  # a second pass sends nothing again
        kinds = [(d["kind"], d["status"]) for d in _sms(app_client, admin, number)]
    assert kinds == [
        ("received", "sent"),
        ("taken", "sent"),  # once, though it was opened twice
        ("pending", "sent"),
        ("pending", "sent"),  # each wait is news
        ("resolved", "sent"),
    ]
    assert len(texts.sent) == 5


def test_in_quiet_hours_a_proactive_notice_waits_and_an_answer_does_not(
    app_client: TestClient, admin: StaffLogin, db: Database, texts: Texts
) -> None:
    with frozen(NIGHT):
        number = _ticket(app_client, admin)
        _status(app_client, admin, number, "open")
        runner.run_due(db)
        runner.run_due(db)
        rows = {d["kind"]: d for d in _sms(app_client, admin, number)}
    assert rows["received"]["status"] == "sent" and rows["received"]["not_before"] is None
    assert rows["taken"]["status"] == "queued"
    assert rows["taken"]["not_before"] == "2026-12-03T00:00:00Z"  # 08:00 in Beijing
    with frozen(datetime(2026, 12, 3, 0, 1, tzinfo=UTC)):
        runner.run_due(db)
        assert {d["kind"]: d["status"] for d in _sms(app_client, admin, number)}["taken"] == "sent"


def test_a_delay_says_why_and_by_when(app_client: TestClient, admin: StaffLogin, db: Database, texts: Texts) -> None:
    with frozen(DAY):
        number = _ticket(app_client, admin)
        runner.run_due(db)
        body = {"reason": "需要支付渠道核对流水", "expected_at": "2026-12-04T18:00:00+08:00"}
        answer = app_client.post(f"/api/v1/tickets/{number}/delay", json=body, headers=admin.headers)
        assert answer.status_code == 200, answer.text
        past = {"reason": "x", "expected_at": "2026-12-01T18:00:00+08:00"}
        refused = app_client.post(f"/api/v1/tickets/{number}/delay", json=past, headers=admin.headers)
        assert refused.status_code == 422 and refused.json()["error"]["code"] == "expected_in_past"
        empty = app_client.post(f"/api/v1/tickets/{number}/delay", json={**body, "reason": "  "}, headers=admin.headers)
        assert empty.status_code == 422
        runner.run_due(db)
    assert _kinds_in_db(db) == [("received", "sent"), ("delayed", "sent")]
    words = wording.rendered(
        wording.Facts("delayed", number, DAY, detail={"reason": body["reason"], "expected_at": body["expected_at"]})
    )
    assert (
        words.short
        == f"抱歉，您的反馈 {number} 需要更多时间处理（需要支付渠道核对流水），预计后天 18:00（北京时间）前完成。"
    )


def test_cannot_be_solved_tells_why_and_instead_of_resolved(
    app_client: TestClient, admin: StaffLogin, db: Database, texts: Texts
) -> None:
    with frozen(DAY):
        number = _ticket(app_client, admin)
        body = {"reason": "该机型系统版本过低", "alternative": "请使用网页版 www.example.com"}
        answer = app_client.post(f"/api/v1/tickets/{number}/unsolvable", json=body, headers=admin.headers)
        assert answer.status_code == 200 and answer.json()["status"] == "resolved", answer.text
        runner.run_due(db)
        kinds = [d["kind"] for d in _sms(app_client, admin, number)]
        ticket = app_client.get(f"/api/v1/tickets/{number}", headers=admin.headers).json()
    assert sorted(kinds) == ["received", "unsolvable"]  # no "resolved" as well
    assert "unsolvable" in ticket["tags"]


def test_staff_resend_a_delivery_and_it_goes_again(
    app_client: TestClient, admin: StaffLogin, db: Database, texts: Texts
) -> None:
    with frozen(DAY):
        number = _ticket(app_client, admin)
        runner.run_due(db)
        (received,) = _sms(app_client, admin, number)
        path = f"/api/v1/tickets/{number}/deliveries/{received['id']}/resend"
        again = app_client.post(path, headers=admin.headers)
        assert again.status_code == 200 and again.json()["status"] == "queued" and again.json()["resent"] == 1
        busy = app_client.post(path, headers=admin.headers)
        assert busy.status_code == 409 and busy.json()["error"]["code"] == "delivery_queued"
        runner.run_due(db)
        missing = app_client.post(f"/api/v1/tickets/{number}/deliveries/999999/resend", headers=admin.headers)
        assert missing.status_code == 404
    assert len(texts.sent) == 2 and texts.sent[0].delivery_id == texts.sent[1].delivery_id


def test_admins_reword_a_notice_and_a_bad_placeholder_is_refused(
    app_client: TestClient, admin: StaffLogin, db: Database, texts: Texts
) -> None:
    path = "/api/v1/notice-templates/taken/zh-CN"
    bad = {"subject": "处理中", "body": "工单 {numbr} 处理中", "short": "{number"}
    refused = app_client.put(path, json=bad, headers=admin.headers)
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "bad_template"
    good = {"subject": "我们在处理", "body": "工单 {number} 已有专人跟进。", "short": "{number} 已有专人跟进"}
    saved = app_client.put(path, json=good, headers=admin.headers)
    assert saved.status_code == 200 and saved.json()["custom"] is True
    listed = app_client.get("/api/v1/notice-templates", headers=admin.headers).json()
    assert {(i["kind"], i["language"]) for i in listed["items"]} == {
        (k, lang) for k in wording.KINDS for lang in wording.LANGUAGES
    }
    reset = app_client.delete(path, headers=admin.headers)
    assert reset.status_code == 200 and reset.json()["short"] == wording.default("taken", "zh-CN").short
    unknown = app_client.put("/api/v1/notice-templates/nope/zh-CN", json=good, headers=admin.headers)
    assert unknown.status_code == 404


@pytest.mark.parametrize(
    ("window", "at", "kind", "release"),
    [
        ("22:00-08:00", NIGHT, "delayed", datetime(2026, 12, 3, 0, 0, tzinfo=UTC)),
        ("22:00-08:00", NIGHT, "received", None),  # an answer never waits
        ("22:00-08:00", NIGHT, "resolved", None),
        ("22:00-08:00", DAY, "delayed", None),
        ("22:00-08:00", datetime(2026, 12, 2, 23, 30, tzinfo=UTC), "taken", datetime(2026, 12, 3, 0, 0, tzinfo=UTC)),
        ("12:00-14:00", datetime(2026, 12, 2, 5, 0, tzinfo=UTC), "suggestion", datetime(2026, 12, 2, 6, 0, tzinfo=UTC)),
        ("", NIGHT, "delayed", None),  # off
    ],
)
def test_quiet_hours(window: str, at: datetime, kind: str, release: datetime | None) -> None:
    assert quiet.release_at(kind, at, hours=quiet.parse(window), zone="Asia/Shanghai") == release


@pytest.mark.parametrize("window", ["22-08", "25:00-08:00", "08:00-08:00", "nachts"])
def test_quiet_hours_must_be_a_window(window: str) -> None:
    with pytest.raises(ValueError, match="quiet hours"):
        quiet.parse(window)


def _kinds_in_db(db: Database) -> list[tuple[str, str]]:
    """The SMS rows as stored (the staff token of the fixture would have expired by then)."""
    with db.read() as session:
        rows = session.scalars(select(MessageDelivery).where(MessageDelivery.channel == "sms"))
        return [(r.kind, r.status) for r in rows]


def test_the_48_hour_sweep_tells_of_the_delay_once(
    app_client: TestClient, admin: StaffLogin, db: Database, texts: Texts
) -> None:

    with frozen(DAY):
        _ticket(app_client, admin)
        runner.run_due(db)
    with frozen(DAY + timedelta(hours=47)):
        overdue.sweep(db)
        assert _kinds_in_db(db) == [("received", "sent")]
    with frozen(DAY + timedelta(hours=49)):  # 11:00 in Beijing two days on
        overdue.sweep(db)
        overdue.sweep(db)
        runner.run_due(db)
    assert _kinds_in_db(db) == [("received", "sent"), ("delayed", "sent")]


def test_the_sweep_looks_back_a_week_past_the_48_hours(
    app_client: TestClient, admin: StaffLogin, db: Database, texts: Texts
) -> None:
    with frozen(DAY):
        _ticket(app_client, admin)
        runner.run_due(db)
    with frozen(DAY + overdue.OPEN_FOR + overdue.LOOK_BACK + timedelta(hours=1)):
        overdue.sweep(db)  # a sweep that could not run for over a week: this one is past telling
        runner.run_due(db)
    assert _kinds_in_db(db) == [("received", "sent")]
