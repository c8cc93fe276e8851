"""The SMS channel against a local gateway that checks the signature: a phone user is texted
their notices (received, resolved…), signed, once per delivery; replies stay the call-back's;
a refusal fails at once; a gateway URL without its secret is refused by the settings."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from test_inapp import SECRET, Platform

from conftest import StaffLogin, login
from helpers import feedback, submit
from huiying.app import create_app
from huiying.channels import registry
from huiying.config import Settings
from huiying.db import Database
from huiying.kit.roles import Role
from huiying.worker import runner

MOBILE = "+86 138-0013-8000"


@pytest.fixture(autouse=True)
def _no_sender_left() -> Iterator[None]:
    yield
    registry.register("sms", None)


@pytest.fixture
def gateway() -> Iterator[Platform]:
    server = Platform()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def client(settings: Settings, db: Database, gateway: Platform) -> Iterator[TestClient]:
    texting = settings.model_copy(
        update={"sms_gateway_url": gateway.url, "sms_gateway_secret": SECRET, "quiet_hours": ""}
    )
    with TestClient(create_app(texting, db), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def staff(client: TestClient, db: Database) -> StaffLogin:
    return login(client, db, email="hotline.lead@example.com", role=Role.ADMIN)


def _drain(db: Database) -> None:
    while runner.run_due(db) > 0:
        pass


def _sms_rows(client: TestClient, staff: StaffLogin, number: str) -> list[dict[str, Any]]:
    items = client.get(f"/api/v1/tickets/{number}/deliveries", headers=staff.headers).json()["items"]
    return [d for d in items if d["channel"] == "sms"]


def test_a_phone_user_is_texted_their_notices_signed_and_once(
    client: TestClient, staff: StaffLogin, db: Database, gateway: Platform
) -> None:
    body = feedback(channel="hotline", user_id=None, contact=MOBILE, description="来电：会员续费扣了两次钱")
    number = str(submit(client, body, **staff.headers)["number"])
    _drain(db)
    answer = client.post(f"/api/v1/tickets/{number}/replies", json={"body": "已为您退款"}, headers=staff.headers)
    assert answer.status_code == 201, answer.text
    assert client.post(
        f"/api/v1/tickets/{number}/status", json={"status": "resolved"}, headers=staff.headers
    ).is_success
    _drain(db)
    _drain(db)
    assert [(b["kind"], b["phone"], b["number"]) for b in gateway.bodies] == [
        ("received", "13800138000", number),
        ("resolved", "13800138000", number),
    ]  # the reply itself is said on the call-back, not texted
    received, resolved = gateway.bodies
    assert received["text"].startswith(f"我们已收到您的反馈，工单号 {number}。")
    assert resolved["text"].startswith(f"您的反馈 {number} 已解决。")
    assert len({b["id"] for b in gateway.bodies}) == 2
    assert [(d["kind"], d["status"]) for d in _sms_rows(client, staff, number)] == [
        ("received", "sent"),
        ("resolved", "sent"),
    ]


def test_feedback_with_an_email_address_is_not_texted(
    client: TestClient, staff: StaffLogin, db: Database, gateway: Platform
) -> None:
    number = str(submit(client, feedback(channel="web", contact="li.lei@example.com"))["number"])
    _drain(db)
    assert gateway.requests == [] and _sms_rows(client, staff, number) == []


def test_a_refusing_gateway_fails_the_text_at_once(
    client: TestClient, staff: StaffLogin, db: Database, gateway: Platform
) -> None:
    gateway.answers = [400]
    number = str(submit(client, feedback(channel="web", user_id=None, contact=MOBILE), **staff.headers)["number"])
    _drain(db)
    (row,) = _sms_rows(client, staff, number)
    assert (row["status"], row["attempts"]) == ("failed", 1) and "SMS gateway answered 400" in row["error"]


def test_a_gateway_url_without_its_secret_is_refused() -> None:
    with pytest.raises(ValidationError, match="HUIYING_SMS_GATEWAY_SECRET"):
        Settings(sms_gateway_url="https://sms.example.com/send")
    with pytest.raises(ValidationError, match="quiet hours"):
        Settings(quiet_hours="night")
