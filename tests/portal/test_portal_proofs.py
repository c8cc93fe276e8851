"""How a portal visitor proves who they are before "my other feedback" is listed (issue 16, 1):
the platform's signed user token, or a one-time code sent to the contact."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from conftest import TEST_SECRET
from helpers import feedback, submit
from huiying.channels import codes as code_senders
from huiying.channels.base import Delivered
from huiying.config import Settings
from huiying.db import Database
from huiying.jobs.models import OutboxJob
from huiying.kit import clock
from huiying.portal import codes, user_token
from huiying.portal.links import portal_token
from huiying.portal.models import PortalCode
from huiying.worker import runner

PLATFORM_SECRET = "platform-shared-secret-for-tests"
USER = "u-alice"
PHONE = "13700002222"


@dataclass
class FakeSms:
    """The boundary: what an SMS gateway would have been asked to send."""

    name: str = "fake-sms"
    sent: list[tuple[str, str, str]] = field(default_factory=list)

    def send_code(self, *, to: str, code: str, language: str) -> Delivered:
        self.sent.append((to, code, language))
        return Delivered(external_id=f"sms-{len(self.sent)}")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"platform_user_secret": PLATFORM_SECRET})


@pytest.fixture
def sms() -> object:
    sender = FakeSms()
    code_senders.register("sms", sender)
    yield sender
    code_senders.register("sms", None)


@pytest.fixture
def alice(app_client: TestClient) -> list[str]:
    return [submit(app_client, feedback(user_id=USER, contact=PHONE, title=f"问题 {i}"))["number"] for i in range(3)]


def _csrf(client: TestClient, path: str = "/portal/mine") -> str:
    return client.get(path).text.split('name="csrf_token" value="')[1].split('"')[0]


def _token(user_id: str = USER, *, vip: bool = False, issued_at: int | None = None) -> str:
    return user_token.sign(PLATFORM_SECRET, user_id, vip=vip, issued_at=issued_at or int(time.time()))


# --- the platform's signed user token -------------------------------------------------------


def test_a_valid_user_token_on_a_ticket_link_lists_the_users_other_tickets(
    app_client: TestClient, alice: list[str]
) -> None:
    app_client.cookies.clear()
    link = f"/portal/t/{portal_token(TEST_SECRET, alice[0])}"
    assert alice[1] not in app_client.get(link).text  # the link alone: that ticket only
    answer = app_client.get(link, params={"user_id": USER, "user_token": _token()}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == link  # the token leaves the address bar
    page = app_client.get(link).text
    assert alice[1] in page and alice[2] in page
    assert portal_token(TEST_SECRET, alice[1]) in page


def test_my_feedback_with_a_user_token_lists_every_ticket_of_that_user(
    app_client: TestClient, alice: list[str]
) -> None:
    app_client.cookies.clear()
    page = app_client.get("/portal/mine", params={"user_id": USER, "user_token": _token()})
    assert page.status_code == 200
    assert all(number in page.text for number in alice)


@pytest.mark.parametrize(
    "params",
    [
        {"user_id": USER, "user_token": _token("someone-else")},
        {"user_id": USER, "user_token": user_token.sign("wrong-secret", USER, vip=False, issued_at=int(time.time()))},
        {"user_id": USER, "user_token": _token(issued_at=int(time.time()) - 2 * 86400)},
        {"user_id": USER, "user_token": "garbage"},
    ],
    ids=["other-user", "other-secret", "expired", "garbage"],
)
def test_an_invalid_user_token_proves_nothing(app_client: TestClient, alice: list[str], params: dict[str, str]) -> None:
    app_client.cookies.clear()
    page = app_client.get("/portal/mine", params=params)
    assert page.status_code == 200
    assert not any(number in page.text for number in alice)
    assert "登录凭证无效或已过期" in page.text
    assert 'id="contact-form"' in page.text


def test_a_user_proved_by_token_does_not_see_tickets_that_only_share_their_contact(
    app_client: TestClient, alice: list[str]
) -> None:
    # The attacker is a real platform user and proves it, but types Alice's phone as contact.
    app_client.cookies.clear()
    mine = app_client.post("/api/v1/feedback", json={"description": "hi", "user_id": "mallory", "contact": PHONE})
    link = urlsplit(mine.json()["portal_url"]).path
    page = app_client.get(link, params={"user_id": "mallory", "user_token": _token("mallory")})
    assert page.status_code == 200
    assert not any(number in page.text for number in alice)


def test_the_feedback_form_with_a_user_token_leads_to_the_users_list(app_client: TestClient, alice: list[str]) -> None:
    app_client.cookies.clear()
    form = app_client.get("/feedback", params={"user_id": USER, "user_token": _token()})
    assert 'name="user_token"' in form.text
    csrf = form.text.split('name="csrf_token" value="')[1].split('"')[0]
    data = {"description": "又一个问题", "user_id": USER, "user_token": _token(), "csrf_token": csrf}
    done = app_client.post("/feedback", data=data)
    link = done.text.split('id="status-link">')[0].rsplit('href="', 1)[1].split('"')[0]
    page = app_client.get(link).text
    assert all(number in page for number in alice)


# --- a one-time code sent to the contact ----------------------------------------------------


def _ask_code(client: TestClient, contact: str = PHONE) -> str:
    answer = client.post("/portal/code", data={"contact": contact, "csrf_token": _csrf(client)})
    assert answer.status_code == 200, answer.text
    assert 'id="code-form"' in answer.text
    return answer.text


def _enter_code(client: TestClient, code: str, contact: str = PHONE) -> object:
    return client.post(
        "/portal/code/verify",
        data={"contact": contact, "code": code, "csrf_token": _csrf(client)},
        follow_redirects=False,
    )


def test_a_code_sent_to_the_contact_proves_it(
    app_client: TestClient, db: Database, alice: list[str], sms: FakeSms
) -> None:
    app_client.cookies.clear()
    _ask_code(app_client, "+86 137-0000-2222")
    assert sms.sent == []  # it leaves through the outbox, after the commit
    assert runner.run_due(db) == 1
    [(to, code, language)] = sms.sent
    assert (to, language) == (PHONE, "zh")  # to the contact on file
    wrong = _enter_code(app_client, "000000" if code != "000000" else "111111")
    assert wrong.status_code == 422  # type: ignore[attr-defined]
    assert "验证码错误或已过期" in wrong.text  # type: ignore[attr-defined]
    right = _enter_code(app_client, code)
    assert right.status_code == 303 and right.headers["location"] == "/portal/mine"  # type: ignore[attr-defined]
    page = app_client.get("/portal/mine").text
    assert all(number in page for number in alice)
    # Used once: the same code does not prove it again on another device.
    other = TestClient(app_client.app)
    assert _enter_code(other, code).status_code == 422  # type: ignore[attr-defined]


def test_the_code_is_kept_only_as_a_keyed_hash_once_handed_over(
    app_client: TestClient, db: Database, alice: list[str], sms: FakeSms
) -> None:
    _ask_code(app_client)
    runner.run_due(db)
    [(_, code, _)] = sms.sent
    with db.read() as session:
        row = session.scalars(select(PortalCode)).one()
        assert (row.code_sealed, row.delivery) == (None, "sent")
        assert code not in row.code_hash
        payloads = [job.payload for job in session.scalars(select(OutboxJob))]
    assert payloads == [{"code_id": row.id}]


def test_five_wrong_codes_burn_the_code(app_client: TestClient, db: Database, alice: list[str], sms: FakeSms) -> None:
    _ask_code(app_client)
    runner.run_due(db)
    [(_, code, _)] = sms.sent
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(codes.MAX_ATTEMPTS):
        assert _enter_code(app_client, wrong).status_code == 422  # type: ignore[attr-defined]
    assert _enter_code(app_client, code).status_code == 422  # type: ignore[attr-defined]
    assert not any(number in app_client.get("/portal/mine").text for number in alice)


def test_a_code_expires(db: Database, alice: list[str], sms: FakeSms) -> None:
    with db.write() as session:
        codes.request_code(session, contact=PHONE, language="zh", secret_key=TEST_SECRET)
    runner.run_due(db)
    [(_, code, _)] = sms.sent
    later = clock.utcnow() + codes.CODE_LIFETIME + timedelta(seconds=1)
    with db.write() as session:
        assert codes.verify_code(session, contact=PHONE, code=code, secret_key=TEST_SECRET, now=later) is None
    with db.write() as session:
        assert codes.verify_code(session, contact=PHONE, code=code, secret_key=TEST_SECRET) is not None


def test_a_new_code_replaces_the_one_before(db: Database, alice: list[str], sms: FakeSms) -> None:
    for _ in range(2):
        with db.write() as session:
            codes.request_code(session, contact=PHONE, language="en", secret_key=TEST_SECRET)
        runner.run_due(db)
    (_, first, _), (_, second, _) = sms.sent
    with db.write() as session:
        assert first == second or codes.verify_code(session, contact=PHONE, code=first, secret_key=TEST_SECRET) is None
    with db.write() as session:
        assert codes.verify_code(session, contact=PHONE, code=second, secret_key=TEST_SECRET) is not None


def test_a_contact_without_feedback_gets_the_same_answer_and_nothing_is_sent(
    app_client: TestClient, db: Database, alice: list[str], sms: FakeSms
) -> None:
    known = _ask_code(app_client, PHONE)
    unknown = _ask_code(app_client, "13511112222")
    assert known.replace(PHONE, "X") == unknown.replace("13511112222", "X")
    runner.run_due(db)
    assert [to for to, _, _ in sms.sent] == [PHONE]


def test_codes_per_contact_are_limited(app_client: TestClient, alice: list[str], sms: FakeSms) -> None:
    for _ in range(codes.MAX_CODES_PER_HOUR):
        _ask_code(app_client)
    answer = app_client.post("/portal/code", data={"contact": PHONE, "csrf_token": _csrf(app_client)})
    assert answer.status_code == 429 and answer.headers["content-type"].startswith("text/html")


def test_without_a_sender_the_visitor_is_told_plainly(app_client: TestClient, db: Database, alice: list[str]) -> None:
    answer = app_client.post("/portal/code?lang=en", data={"contact": PHONE, "csrf_token": _csrf(app_client)})
    assert answer.status_code == 503 and answer.headers["content-type"].startswith("text/html")
    assert "Codes cannot be sent at the moment" in answer.text
    with db.read() as session:
        assert session.scalars(select(PortalCode)).all() == []


def test_a_replaced_code_is_not_sent(db: Database, alice: list[str], sms: FakeSms) -> None:
    for _ in range(2):
        with db.write() as session:
            codes.request_code(session, contact=PHONE, language="zh", secret_key=TEST_SECRET)
    runner.run_due(db)
    assert len(sms.sent) == 1
    with db.read() as session:
        assert sorted(r.delivery for r in session.scalars(select(PortalCode))) == ["not_sent", "sent"]


def test_a_code_whose_sender_went_away_is_dropped_not_kept(db: Database, alice: list[str], sms: FakeSms) -> None:
    with db.write() as session:
        codes.request_code(session, contact=PHONE, language="zh", secret_key=TEST_SECRET)
    code_senders.register("sms", None)
    runner.run_due(db)
    with db.read() as session:
        row = session.scalars(select(PortalCode)).one()
        assert (row.code_sealed, row.delivery) == (None, "no_sender")


def test_forgetting_the_proof_stops_the_list(app_client: TestClient, alice: list[str]) -> None:
    app_client.get("/portal/mine", params={"user_id": USER, "user_token": _token()})
    assert alice[0] in app_client.get("/portal/mine").text
    app_client.post("/portal/forget", data={"csrf_token": _csrf(app_client)})
    assert alice[0] not in app_client.get("/portal/mine").text
