"""The whole loop of an app ticket, against a real HTTP server on this machine playing the
platform (it verifies X-Huiying-Signature with the shared secret and answers 401 to a bad one),
on SQLite and PostgreSQL: the acknowledgement is pushed, then the agent's reply, then the
resolution with the link to the survey; the user answers 满意 by that link and nothing reopens;
and no push went twice — one request per delivery, each with an id of its own. Time is injected."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi.testclient import TestClient
from loop_kit import BASE_URL, SECRET, Platform, actions, deliveries, drain, get, post, signature

from conftest import login
from helpers import feedback, submit
from huiying.app import create_app
from huiying.channels import registry
from huiying.config import Settings
from huiying.db import Database
from huiying.kit.clock import frozen
from huiying.kit.roles import Role

T0 = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)  # Wednesday 10:00 in Beijing, working hours
USER_ID = "u20001"
BEIJING = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def platform() -> Iterator[Platform]:
    server = Platform()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _no_sender_left() -> Iterator[None]:
    yield
    registry.register("inapp", None)  # the registry is process-wide


def test_an_app_ticket_goes_round_the_whole_loop_and_nothing_is_pushed_twice(
    db: Database, settings: Settings, platform: Platform
) -> None:
    pushing = settings.model_copy(
        update={"inapp_webhook_url": platform.url, "inapp_webhook_secret": SECRET, "base_url": BASE_URL}
    )
    with TestClient(create_app(pushing, db), raise_server_exceptions=False) as client:
        admin = login(client, db, email="admin@example.com", role=Role.ADMIN)

        # 1. Feedback from the app: the acknowledgement is pushed, signed, with the number.
        with frozen(T0):
            number = str(submit(client, feedback(channel="app", user_id=USER_ID))["number"])
            drain(db)
        (received,) = platform.bodies
        assert (received["kind"], received["user_id"], received["number"]) == ("received", USER_ID, number)
        first = datetime.fromisoformat(get(client, admin, f"/api/v1/tickets/{number}")["first_response_due"])
        assert received["text"].startswith(f"我们已收到您的反馈，工单号 {number}。")
        assert f"今天 {first.astimezone(BEIJING):%H:%M}" in received["text"]  # when to expect the first reply

        # The platform really checks: the same body altered, under its old signature, is refused
        # and shown to nobody — so the pushes it took were signed right.
        raw, headers = platform.requests[0]
        forged = json.dumps({**received, "text": "中奖了！点击领取"}, ensure_ascii=False).encode()
        answer = _post_forged(platform.url, forged, headers["X-Huiying-Signature"])
        assert answer == 401 and len(platform.shown) == 1
        assert headers["X-Huiying-Signature"] == signature(SECRET, raw)

        # 2. The agent's reply is pushed.
        with frozen(T0 + timedelta(minutes=20)):
            body = {"body": "您好，会员已为您补开，请重新进入 App 查看。"}
            post(client, admin, f"/api/v1/tickets/{number}/replies", body, status=201)
            drain(db)
        (reply,) = _pushed(platform, "reply")
        assert (reply["kind"], reply["text"]) == (
            "reply",
            f"客服回复（{number}）：您好，会员已为您补开，请重新进入 App 查看。",
        )

        # 3. Resolved: the push asks for the rating and links to the portal page with the survey.
        with frozen(T0 + timedelta(minutes=40)):
            post(client, admin, f"/api/v1/tickets/{number}/status", {"status": "resolved"})
            drain(db)
        (resolved,) = _pushed(platform, "resolved")
        assert "评价" in resolved["text"]
        pushed_before_survey = len(platform.requests)
        path = urlsplit(resolved["url"]).path
        assert resolved["url"] == f"{BASE_URL}{path}" and path.startswith("/portal/t/")
        page = client.get(path, params={"lang": "zh"})
        assert page.status_code == 200 and 'id="survey"' in page.text and "满意" in page.text
        token = path.rsplit("/", 1)[1]

        # 4. The user answers by the signed link: 满意, NPS 9 — the ticket stays resolved.
        with frozen(T0 + timedelta(hours=1)):
            rated = client.post(f"/api/v1/surveys/{token}", json={"csat": "satisfied", "nps": 9, "comment": "很快"})
            assert rated.status_code == 201, rated.text
            drain(db)
        assert rated.json() == {"number": number, "csat": "satisfied", "nps": 9, "second_handling": False}
        ticket = get(client, admin, f"/api/v1/tickets/{number}")
        assert (ticket["status"], ticket["csat"], ticket["nps"], ticket["reopen_count"]) == (
            "resolved",
            "satisfied",
            9,
            0,
        )
        assert "second_handling" not in ticket["tags"]
        done = [e["action"] for e in actions(client, admin, number)]
        assert "survey_answered" in done and "survey_second_handling" not in done
        assert "您的评价：满意" in client.get(path, params={"lang": "zh"}).text
        assert len(platform.requests) == pushed_before_survey  # the answer itself pushes nothing

        # 5. Nothing twice: one signed request per delivery, each with its own id, all sent once.
        rows = [d for d in deliveries(client, admin, number) if d["channel"] == "inapp"]
        assert {(d["status"], d["attempts"]) for d in rows} == {("sent", 1)}
        kinds = [d["kind"] for d in rows]
        assert [k for k in kinds if k in ("received", "reply", "resolved")] == ["received", "reply", "resolved"]
        assert len(kinds) == len(set(kinds))  # no kind twice (a "taken" notice may come besides)
        assert platform.statuses == [200, 401] + [200] * (len(rows) - 1)  # the 401: the forged one above
        good = [b["id"] for b in platform.bodies]
        assert sorted(good) == sorted(f"hy-{d['id']}" for d in rows) and len(set(good)) == len(rows)
        assert sorted(platform.shown) == sorted(good)


def _pushed(platform: Platform, kind: str) -> list[dict[str, Any]]:
    return [b for b in platform.bodies if b["kind"] == kind]


def _post_forged(url: str, body: bytes, signed: str) -> int:
    """Post `body` to the platform as someone who does not hold the secret would."""
    headers = {"Content-Type": "application/json", "X-Huiying-Signature": signed}
    return httpx.post(url, content=body, headers=headers, timeout=10).status_code
