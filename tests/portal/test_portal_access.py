"""The portal shows a visitor only what they proved is theirs (issue 16, item 1).

The attack: anonymously submit feedback under the victim's platform user id (or with the victim's
phone as contact), open the returned portal link, and read the victim's other tickets there.
"""

from __future__ import annotations

import base64
import json
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from conftest import TEST_SECRET, StaffLogin
from helpers import feedback, submit
from huiying.portal.links import portal_token

VICTIM_ID = "u-victim-777"
VICTIM_PHONE = "13900001111"
VICTIM_REPLY = "您的退款单号是 RF-SECRET-4242"


@pytest.fixture
def victim(app_client: TestClient, admin: StaffLogin) -> list[str]:
    """Two tickets of the victim, one with a public reply from support."""
    numbers = [
        submit(app_client, feedback(user_id=VICTIM_ID, contact=VICTIM_PHONE, description=f"我的订单 {i} 没到"))[
            "number"
        ]
        for i in range(2)
    ]
    answer = app_client.post(
        f"/api/v1/tickets/{numbers[0]}/replies", json={"body": VICTIM_REPLY, "internal": False}, headers=admin.headers
    )
    assert answer.status_code == 201, answer.text
    return numbers


def _attacker_page(app_client: TestClient, body: dict[str, object]) -> str:
    app_client.cookies.clear()
    answer = app_client.post("/api/v1/feedback", json=body)
    assert answer.status_code == 201, answer.text
    page = app_client.get(urlsplit(answer.json()["portal_url"]).path)
    assert page.status_code == 200
    assert answer.json()["number"] in page.text  # the attacker's own ticket is shown
    return page.text


@pytest.mark.parametrize(
    "claim",
    [{"user_id": VICTIM_ID}, {"contact": VICTIM_PHONE}, {"user_id": VICTIM_ID, "contact": VICTIM_PHONE}],
    ids=["victim-user-id", "victim-phone", "both"],
)
def test_a_portal_link_from_anonymous_intake_shows_none_of_the_victims_tickets(
    app_client: TestClient, victim: list[str], claim: dict[str, object]
) -> None:
    html = _attacker_page(app_client, {"description": "hi", **claim})
    for number in victim:
        assert number not in html
        assert portal_token(TEST_SECRET, number) not in html
    assert VICTIM_REPLY not in html


def test_the_number_and_contact_lookup_opens_only_that_ticket(app_client: TestClient, victim: list[str]) -> None:
    # The attacker's own ticket, made with the victim's phone, then looked up by number + phone.
    app_client.cookies.clear()
    mine = app_client.post("/api/v1/feedback", json={"description": "hi", "contact": VICTIM_PHONE}).json()["number"]
    form = app_client.get("/portal")
    token = form.text.split('name="csrf_token" value="')[1].split('"')[0]
    page = app_client.post("/portal", data={"number": mine, "contact": VICTIM_PHONE, "csrf_token": token})
    assert page.status_code == 200 and mine in page.text
    for number in victim:
        assert number not in page.text
        assert portal_token(TEST_SECRET, number) not in page.text
    assert VICTIM_REPLY not in page.text


def test_a_victims_link_cannot_be_derived_from_the_attackers(app_client: TestClient, victim: list[str]) -> None:
    app_client.cookies.clear()
    url = app_client.post("/api/v1/feedback", json={"description": "hi", "user_id": VICTIM_ID}).json()["portal_url"]
    token = urlsplit(url).path.rsplit("/", 1)[1]
    payload, signature = token.rsplit(".", 1)
    forged_payload = base64.urlsafe_b64encode(json.dumps({"n": victim[0]}).encode()).decode().rstrip("=")
    for forged in (f"{forged_payload}.{signature}", forged_payload, portal_token("some-other-key" * 3, victim[0])):
        page = app_client.get(f"/portal/t/{forged}")
        assert page.status_code == 404
        assert victim[0] not in page.text and VICTIM_REPLY not in page.text
    assert payload != forged_payload


def test_the_victims_own_link_still_opens_their_ticket(app_client: TestClient, victim: list[str]) -> None:
    app_client.cookies.clear()
    page = app_client.get(f"/portal/t/{portal_token(TEST_SECRET, victim[0])}")
    assert page.status_code == 200
    assert victim[0] in page.text and VICTIM_REPLY in page.text
    # One ticket's link opens that ticket only: not the person's other ticket.
    assert victim[1] not in page.text
