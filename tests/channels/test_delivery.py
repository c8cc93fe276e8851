"""A public reply goes out after the commit, one delivery per channel, and says what became of it:
queued, sent (once), failed after its retries (with the error), or suppressed (with the reason).
Seen through the deliveries API, the ticket page (zh and en) and the timeline, on both back ends."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from conftest import StaffLogin, admin_page, login
from helpers import feedback, submit
from huiying.channels import registry
from huiying.channels.base import Delivered, Outgoing
from huiying.channels.delivery import deliver_message
from huiying.db import Database
from huiying.jobs import outbox
from huiying.jobs.models import OutboxJob
from huiying.kit.roles import Role
from huiying.worker import runner


class RecordingSender:
    """A test sender: records what it was asked to send, or fails like a mail server that is down."""

    name = "email"

    def __init__(self, *, fail: bool = False) -> None:
        self.fail = fail
        self.sent: list[Outgoing] = []

    def deliver(self, outgoing: Outgoing) -> Delivered:
        if self.fail:
            raise ConnectionError("smtp.example.com refused the connection")
        self.sent.append(outgoing)
        return Delivered(external_id=f"<reply-{outgoing.delivery_id}@example.com>")


@pytest.fixture
def email_sender() -> Iterator[RecordingSender]:
    sender = RecordingSender()
    registry.register("email", sender)
    yield sender
    registry.register("email", None)


def _ticket(client: TestClient, admin: StaffLogin, channel: str, contact: str) -> str:
    body = feedback(channel=channel, contact=contact, description=f"{channel} feedback: my refund is missing")
    return str(submit(client, body, **admin.headers)["number"])


def _reply(client: TestClient, admin: StaffLogin, number: str) -> int:
    answer = client.post(
        f"/api/v1/tickets/{number}/replies", json={"body": "已为您退款，请查收。"}, headers=admin.headers
    )
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"])


def _deliveries(client: TestClient, admin: StaffLogin, number: str) -> list[dict[str, Any]]:
    answer = client.get(f"/api/v1/tickets/{number}/deliveries", headers=admin.headers)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


def _actions(client: TestClient, admin: StaffLogin, number: str) -> list[str]:
    timeline = client.get(f"/api/v1/tickets/{number}/timeline", headers=admin.headers).json()
    return [event["action"] for event in timeline["events"]]


def _page(client: TestClient, db: Database, number: str, *, lang: str = "zh") -> str:
    return admin_page(client, db, f"/tickets/{number}?lang={lang}")


def _deliveries_on_page(html: str) -> list[str]:
    return [re.sub(r"\s+", " ", text).strip() for text in re.findall(r'<li class="delivery[^>]*>(.*?)</li>', html)]


def test_a_reply_on_an_email_ticket_without_a_mail_sender_is_suppressed_not_sent(
    app_client: TestClient, admin: StaffLogin, db: Database
) -> None:
    number = _ticket(app_client, admin, "email", "li.wei@example.com")
    _reply(app_client, admin, number)
    before = _deliveries(app_client, admin, number)
    assert [(d["channel"], d["status"], d["attempts"]) for d in before] == [("email", "queued", 0)]

    assert runner.run_due(db) == 1
    after = _deliveries(app_client, admin, number)
    assert [(d["channel"], d["status"], d["error"], d["sent_at"]) for d in after] == [
        ("email", "suppressed", "no email sender configured", None)
    ]
    actions = _actions(app_client, admin, number)
    assert "reply_not_sent" in actions and "reply_delivered" not in actions
    messages = app_client.get(f"/api/v1/tickets/{number}/messages", headers=admin.headers).json()
    assert [m["delivery"] for m in messages if m["kind"] == "reply"] == ["suppressed"]

    zh = _page(app_client, db, number)
    assert _deliveries_on_page(zh) == ["邮件: 未发送（未配置发信服务）"]
    assert "已送达" not in zh and "已发送" not in zh
    assert "回复未通过邮件发送：未配置发信服务" in zh
    en = _page(app_client, db, number, lang="en")
    assert _deliveries_on_page(en) == ["email: Not sent (no email sender configured)"]


def test_a_reply_on_a_phone_ticket_says_it_is_answered_by_call_back(
    app_client: TestClient, admin: StaffLogin, db: Database
) -> None:
    number = _ticket(app_client, admin, "hotline", "13812345678")
    _reply(app_client, admin, number)
    runner.run_due(db)
    assert [(d["channel"], d["status"], d["error"]) for d in _deliveries(app_client, admin, number)] == [
        ("phone", "suppressed", "phone tickets are answered by call-back")
    ]
    assert _deliveries_on_page(_page(app_client, db, number)) == ["电话: 未发送（电话反馈通过回电答复）"]


def test_an_app_reply_is_published_on_the_portal_and_says_no_push_is_configured(
    app_client: TestClient, admin: StaffLogin, db: Database
) -> None:
    number = _ticket(app_client, admin, "app", "13812345678")
    _reply(app_client, admin, number)
    runner.run_due(db)
    items = _deliveries(app_client, admin, number)
    assert [(d["channel"], d["status"], d["error"]) for d in items] == [
        ("portal", "sent", None),
        ("inapp", "suppressed", "no in-app push configured"),
    ]
    assert items[0]["sent_at"] is not None
    assert _deliveries_on_page(_page(app_client, db, number)) == [
        "用户反馈页面: 已发布到用户的反馈页面",
        "应用内推送: 未发送（未配置应用内推送）",
    ]


def test_a_failing_sender_is_retried_then_the_delivery_fails_with_its_error(
    app_client: TestClient, admin: StaffLogin, db: Database, email_sender: RecordingSender
) -> None:
    email_sender.fail = True
    number = _ticket(app_client, admin, "email", "li.wei@example.com")
    _reply(app_client, admin, number)
    job_id = _only_delivery_job(db)

    _run_now(db, job_id)
    (retrying,) = _deliveries(app_client, admin, number)
    assert (retrying["status"], retrying["attempts"]) == ("queued", 1)
    assert "refused the connection" in retrying["error"]
    with db.read() as session:
        job = session.get_one(OutboxJob, job_id)
        assert (job.state, job.available_at > job.created_at) == ("pending", True)  # backing off
    assert "排队中（上次发送失败：ConnectionError: smtp.example.com refused the connection）" in _page(
        app_client, db, number
    )
    assert "reply_failed" not in _actions(app_client, admin, number)

    for _ in range(outbox.MAX_ATTEMPTS - 1):
        _run_now(db, job_id)
    (failed,) = _deliveries(app_client, admin, number)
    assert (failed["status"], failed["attempts"], failed["sent_at"]) == ("failed", outbox.MAX_ATTEMPTS, None)
    assert failed["error"] == "ConnectionError: smtp.example.com refused the connection"
    with db.read() as session:
        assert session.get_one(OutboxJob, job_id).state == "dead"  # an admin may retry it
    actions = _actions(app_client, admin, number)
    assert actions.count("reply_failed") == 1 and "reply_delivered" not in actions
    assert _deliveries_on_page(_page(app_client, db, number)) == [
        "邮件: 发送失败（ConnectionError: smtp.example.com refused the connection）"
    ]
    assert _deliveries_on_page(_page(app_client, db, number, lang="en")) == [
        "email: Failed (ConnectionError: smtp.example.com refused the connection)"
    ]
    assert email_sender.sent == []


def test_a_reply_is_sent_once_even_when_its_job_runs_twice(
    app_client: TestClient, admin: StaffLogin, db: Database, email_sender: RecordingSender
) -> None:
    number = _ticket(app_client, admin, "email", "li.wei@example.com")
    message_id = _reply(app_client, admin, number)
    assert email_sender.sent == []  # nothing leaves inside the reply's transaction

    assert runner.run_due(db) == 1
    deliver_message(db, {"message_id": message_id})  # a second run: a lost ack, an admin's retry
    assert [(o.message_id, o.contact, o.text) for o in email_sender.sent] == [
        (message_id, "li.wei@example.com", "已为您退款，请查收。")
    ]
    (sent,) = _deliveries(app_client, admin, number)
    assert (sent["channel"], sent["status"], sent["attempts"], sent["error"]) == ("email", "sent", 1, None)
    assert sent["message_id"] == message_id and sent["sent_at"] is not None
    assert _actions(app_client, admin, number).count("reply_delivered") == 1
    assert _deliveries_on_page(_page(app_client, db, number)) == ["邮件: 已发送"]


def test_deliveries_are_shown_to_ticket_readers_only(app_client: TestClient, admin: StaffLogin, db: Database) -> None:
    number = _ticket(app_client, admin, "email", "li.wei@example.com")
    app_client.patch(f"/api/v1/tickets/{number}", json={"team": "tech-support"}, headers=admin.headers)
    _reply(app_client, admin, number)
    outsider = login(app_client, db, email="finance.agent@example.com", role=Role.AGENT, teams=["finance"])
    insider = login(app_client, db, email="tech.agent@example.com", role=Role.AGENT, teams=["tech-support"])
    auditor = login(app_client, db, email="auditor@example.com", role=Role.AUDITOR)
    path = f"/api/v1/tickets/{number}/deliveries"
    assert app_client.get(path, headers=outsider.headers).status_code == 404  # like every ticket route
    assert app_client.get(path, headers=auditor.headers).status_code == 403
    assert app_client.get(path).status_code == 401
    answer = app_client.get(path, headers=insider.headers)
    assert answer.status_code == 200 and [d["status"] for d in answer.json()["items"]] == ["queued"]


def _only_delivery_job(db: Database) -> int:
    with db.read() as session:
        return session.scalars(select(OutboxJob.id).where(OutboxJob.job == "deliver_message")).one()


def _run_now(db: Database, job_id: int) -> None:
    """Run the job as its next retry would, without waiting out the backoff."""
    with db.write() as session:
        row = session.get_one(OutboxJob, job_id)
        row.available_at = row.created_at
    assert runner.run_job(db, job_id)


def test_a_second_run_while_the_first_is_still_sending_sends_nothing(
    app_client: TestClient, admin: StaffLogin, db: Database, email_sender: RecordingSender
) -> None:
    number = _ticket(app_client, admin, "email", "li.wei@example.com")
    message_id = _reply(app_client, admin, number)
    overlapping: list[str] = []

    class SlowSender(RecordingSender):
        def deliver(self, outgoing: Outgoing) -> Delivered:
            # Another run starts while this one is mid-send (a duplicate job, a stale recovery).
            with pytest.raises(RuntimeError) as busy:
                deliver_message(db, {"message_id": message_id})
            overlapping.append(str(busy.value))
            return super().deliver(outgoing)

    slow = SlowSender()
    registry.register("email", slow)
    assert runner.run_due(db) == 1
    assert overlapping == [f"delivery {_deliveries(app_client, admin, number)[0]['id']} is being sent by another run"]
    assert len(slow.sent) == 1
    (sent,) = _deliveries(app_client, admin, number)
    assert (sent["status"], sent["attempts"]) == ("sent", 1)
    assert _actions(app_client, admin, number).count("reply_delivered") == 1
