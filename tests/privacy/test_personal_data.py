"""Personal data: masked for those without pii:view, encrypted at rest, exported and erased."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from conftest import TEST_SECRET, StaffLogin
from helpers import feedback, submit
from huiying.channels.email import accounts as mail_accounts
from huiying.channels.email.models import MailAccount
from huiying.config import Settings
from huiying.db import Database
from huiying.kit.actor import SYSTEM
from huiying.privacy import crypto, dsr
from huiying.tickets.models import Ticket

PHONE = "13912345678"
ID_CARD = "11010519491231002X"


def _leaky_feedback(**overrides: object) -> dict[str, object]:
    return feedback(
        contact=PHONE,
        description=f"我的手机是{PHONE}，身份证{ID_CARD}，邮箱 li.lei@example.com，订单号 DD202611230001",
        **overrides,
    )


def test_free_text_is_masked_for_agents_and_clear_for_admins(
    app_client: TestClient, admin: StaffLogin, agent: StaffLogin
) -> None:
    number = submit(app_client, _leaky_feedback())["number"]
    # Unrouted, so the agent of no team on duty sees it (routing would give it a team).
    app_client.patch(f"/api/v1/tickets/{number}", json={"team": None}, headers=admin.headers)
    app_client.post(
        f"/api/v1/tickets/{number}/replies",
        json={"body": f"已致电 {PHONE}", "internal": True},
        headers=admin.headers,
    )

    masked = app_client.get(f"/api/v1/tickets/{number}", headers=agent.headers).json()
    assert PHONE not in masked["description"] and "139****5678" in masked["description"]
    assert ID_CARD not in masked["description"] and "li.lei@" not in masked["description"]
    assert "DD202611230001" in masked["description"]  # what the agent needs stays
    assert masked["contact"] == "139****5678"
    notes = app_client.get(f"/api/v1/tickets/{number}/messages", headers=agent.headers).json()
    assert PHONE not in notes[0]["body"]
    listed = app_client.get("/api/v1/tickets", headers=agent.headers).json()["items"]
    assert number in {t["number"] for t in listed} and PHONE not in str(listed)

    clear = app_client.get(f"/api/v1/tickets/{number}", headers=admin.headers).json()
    assert PHONE in clear["description"] and clear["contact"] == PHONE


def test_contacts_are_encrypted_at_rest(app_client: TestClient, db: Database) -> None:
    submit(app_client, _leaky_feedback())
    with db.engine.connect() as connection:
        row = connection.execute(text("SELECT contact_encrypted, contact_masked, contact_digest FROM tickets")).one()
    assert PHONE not in row.contact_encrypted
    assert row.contact_masked == "139****5678"
    assert row.contact_digest == crypto.digest("+86 139-1234-5678")  # the same person, typed differently


def _mail_account(session: Session) -> int:
    """A mailbox whose password is sealed with the key in force now (TEST_SECRET)."""
    account = mail_accounts.create_account(
        session,
        name="售后邮箱",
        host="127.0.0.1",
        port=143,
        username="support",
        password="mailbox-pass",
        folder="INBOX",
        security="plain-local",
        move_to=None,
        enabled=True,
        actor=SYSTEM,
    )
    return account.id


def test_key_rotation_keeps_contacts_readable(app_client: TestClient, db: Database, admin: StaffLogin) -> None:
    number = submit(app_client, _leaky_feedback())["number"]
    try:
        crypto.configure("a brand new secret key, 48 characters long......", (TEST_SECRET,))
        with db.read() as session:
            assert session.scalar(select(Ticket)).contact_plain() == PHONE  # old key still accepted  # type: ignore[union-attr]
        with db.write() as session:
            mailbox = session.get_one(MailAccount, _mail_account(session))
            assert dsr.rotate_keys(session, actor=SYSTEM) == 1
        crypto.configure("a brand new secret key, 48 characters long......")  # old key retired
        with db.read() as session:
            ticket = session.scalar(select(Ticket))
            assert ticket is not None and ticket.contact_plain() == PHONE
            assert ticket.contact_digest == crypto.digest(PHONE)
            mailbox = session.get_one(MailAccount, mailbox.id)
            assert mail_accounts.to_mailbox(mailbox).password == "mailbox-pass"  # the poller still logs in
    finally:
        crypto.configure(TEST_SECRET)
    assert number


def test_export_holds_everything_about_the_person(app_client: TestClient, admin: StaffLogin) -> None:
    mine = submit(app_client, _leaky_feedback(user_id="u-42"))["number"]
    by_contact = submit(app_client, _leaky_feedback(user_id=None))["number"]
    submit(app_client, feedback(user_id="u-other", contact="13700000000"))
    answer = app_client.post(
        "/api/v1/privacy/export", json={"user_id": "u-42", "contact": PHONE}, headers=admin.headers
    )
    assert answer.status_code == 200
    data = answer.json()
    assert {t["number"] for t in data["tickets"]} == {mine, by_contact}
    assert all(t["contact"] == PHONE for t in data["tickets"])
    assert app_client.post("/api/v1/privacy/export", json={}, headers=admin.headers).status_code == 422


def test_erasure_removes_the_person_and_keeps_the_statistics(
    app_client: TestClient, admin: StaffLogin, db: Database, settings: Settings
) -> None:
    stored = app_client.post(
        "/api/v1/attachments", files={"file": ("me.txt", b"my id card photo", "text/plain")}
    ).json()
    number = submit(
        app_client,
        _leaky_feedback(user_id="u-42", attachments=[stored["id"]], category="commercial", subcategory="refund"),
    )["number"]
    app_client.post(
        f"/api/v1/tickets/{number}/replies",
        json={"body": f"已退款到尾号5678，联系电话{PHONE}"},
        headers=admin.headers,
    )
    other = submit(app_client, feedback(user_id="u-other"))["number"]

    answer = app_client.post("/api/v1/privacy/erase", json={"user_id": "u-42"}, headers=admin.headers)
    assert answer.status_code == 200
    assert answer.json() == {"tickets": 1, "messages": 0, "files": 1, "mails": 0}

    ticket = app_client.get(f"/api/v1/tickets/{number}", headers=admin.headers).json()
    assert ticket["contact"] is None and ticket["user_id"] != "u-42"
    assert PHONE not in str(ticket) and ticket["description"] == dsr.ERASED
    assert (ticket["category"], ticket["subcategory"], ticket["status"], ticket["channel"]) == (
        "commercial",
        "refund",
        "open",
        "app",
    )
    reply = app_client.get(f"/api/v1/tickets/{number}/messages", headers=admin.headers).json()[0]
    assert PHONE not in reply["body"]
    assert not [p for p in Path(settings.attachments_dir).rglob("*") if p.is_file()]
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) == 2
    assert app_client.get(f"/api/v1/tickets/{other}", headers=admin.headers).json()["user_id"] == "u-other"
    searched = app_client.get("/api/v1/tickets", params={"q": "身份证"}, headers=admin.headers).json()["items"]
    assert number not in [t["number"] for t in searched]
