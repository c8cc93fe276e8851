"""The mail quarantine for admins, over the API (both back ends) and on its page: list it, retry
an entry, turn one into a ticket as it is, drop one — each audited, each only once; and
`huiying mail import` over a folder and an mbox, printing CONTRACT.md's lines."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from mail_samples import mail, take
from sqlalchemy import select

from conftest import PASSWORD, StaffLogin, login
from huiying.accounts import service as accounts
from huiying.channels.email.models import MailQuarantine
from huiying.config import Settings
from huiying.db import Database
from huiying.kit.roles import Role

QUARANTINE = "/api/v1/mail/quarantine"
GARBAGE = b"\x00\x01 not a mail: \xd5\xe2\xca\xc7\xc0\xac\xbb\xf8 \xff"  # "这是垃圾" in GBK inside


def _entries(client: TestClient, admin: StaffLogin, **params: str) -> list[dict[str, Any]]:
    answer = client.get(QUARANTINE, params=params, headers=admin.headers)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


def _audit_actions(client: TestClient, db: Database) -> list[str]:
    auditor = login(client, db, email="auditor@example.com", role=Role.AUDITOR)
    return [e["action"] for e in client.get("/api/v1/audit", headers=auditor.headers).json()["items"]]


def test_only_admins_see_and_act_on_the_quarantine(app_client: TestClient, db: Database, settings: Settings) -> None:
    take(db, settings, GARBAGE)
    supervisor = login(app_client, db, email="sup@example.com", role=Role.SUPERVISOR, teams=["finance"])
    assert app_client.get(QUARANTINE, headers=supervisor.headers).status_code == 403
    assert app_client.post(f"{QUARANTINE}/1/drop", headers=supervisor.headers).status_code == 403
    assert app_client.get(QUARANTINE).status_code == 401
    admin = login(app_client, db, email="admin@example.com", role=Role.ADMIN)
    assert app_client.post(f"{QUARANTINE}/999/retry", headers=admin.headers).status_code == 404
    assert app_client.get(QUARANTINE, params={"status": "lost"}, headers=admin.headers).status_code == 422
    assert app_client.get(QUARANTINE, params={"cursor": "!!"}, headers=admin.headers).status_code == 422


def test_retry_takes_a_flooded_mail_in_and_an_unreadable_one_stays(
    app_client: TestClient, admin: StaffLogin, db: Database, settings: Settings
) -> None:
    limited = settings.model_copy(update={"mail_flood_per_hour": 1})
    take(db, limited, mail(body="第一封"))
    flooded = take(db, limited, mail(body="第二封：我真的有问题"))
    unreadable = take(db, limited, GARBAGE, "inbox#9")
    assert flooded.result == unreadable.result == "quarantined"

    listed = _entries(app_client, admin, status="open")
    assert [e["id"] for e in listed] == [unreadable.quarantine_id, flooded.quarantine_id]
    entry = listed[1]
    assert entry["reason"].startswith("flood") and entry["sender"] == "l***@example.net"
    assert entry["subject"] == "会员充值失败" and entry["status"] == "open" and entry["ticket"] is None

    retried = app_client.post(f"{QUARANTINE}/{flooded.quarantine_id}/retry", headers=admin.headers)
    assert retried.status_code == 200, retried.text
    body = retried.json()
    assert body["result"] == "imported" and body["entry"]["status"] == "retried"
    assert body["entry"]["ticket"] == body["ticket"] and body["entry"]["resolved_by"]
    ticket = app_client.get(f"/api/v1/tickets/{body['ticket']}", headers=admin.headers).json()
    assert ticket["description"] == "第二封：我真的有问题"
    again = app_client.post(f"{QUARANTINE}/{flooded.quarantine_id}/retry", headers=admin.headers)
    assert again.status_code == 409 and again.json()["error"]["code"] == "quarantine_resolved"

    still = app_client.post(f"{QUARANTINE}/{unreadable.quarantine_id}/retry", headers=admin.headers).json()
    assert still["result"] == "quarantined" and still["entry"]["status"] == "open"
    assert still["entry"]["attempts"] == 2
    assert [e["id"] for e in _entries(app_client, admin, status="open")] == [unreadable.quarantine_id]
    assert _audit_actions(app_client, db).count("mail.quarantine_retried") == 2


def test_an_unreadable_mail_becomes_a_ticket_as_it_is_once(
    app_client: TestClient, admin: StaffLogin, db: Database, settings: Settings
) -> None:
    entry_id = take(db, settings, GARBAGE).quarantine_id
    made = app_client.post(f"{QUARANTINE}/{entry_id}/ticket", headers=admin.headers)
    assert made.status_code == 200, made.text
    number = made.json()["ticket"]
    assert made.json()["entry"]["status"] == "ticketed" and made.json()["entry"]["ticket"] == number
    ticket = app_client.get(f"/api/v1/tickets/{number}", headers=admin.headers).json()
    assert ticket["channel"] == "email" and "mail-quarantine" in ticket["tags"]
    assert "not a mail" in ticket["description"] and "\x00" not in ticket["description"]
    files = app_client.get(f"/api/v1/tickets/{number}/attachments", headers=admin.headers).json()
    assert [f["filename"] for f in files] == ["original.eml"]
    original = app_client.get(files[0]["url"], headers=admin.headers)
    assert original.content == GARBAGE
    assert app_client.post(f"{QUARANTINE}/{entry_id}/ticket", headers=admin.headers).status_code == 409
    # Fetched again, the mail is a replay: it is in (as that ticket) already.
    assert take(db, settings, GARBAGE).result == "duplicate"
    assert "mail.quarantine_ticketed" in _audit_actions(app_client, db)


def test_a_dropped_mail_loses_its_raw_bytes_and_stays_a_replay(
    app_client: TestClient, admin: StaffLogin, db: Database, settings: Settings
) -> None:
    entry_id = take(db, settings, GARBAGE).quarantine_id
    with db.read() as session:
        path = settings.quarantine_dir / session.get_one(MailQuarantine, entry_id).storage_key
    assert path.is_file()
    dropped = app_client.post(f"{QUARANTINE}/{entry_id}/drop", headers=admin.headers)
    assert dropped.status_code == 200, dropped.text
    assert dropped.json()["status"] == "dropped" and not path.exists()
    assert app_client.post(f"{QUARANTINE}/{entry_id}/retry", headers=admin.headers).status_code == 409
    assert take(db, settings, GARBAGE).result == "duplicate"
    assert _entries(app_client, admin, status="open") == []
    assert [e["status"] for e in _entries(app_client, admin)] == ["dropped"]
    assert "mail.quarantine_dropped" in _audit_actions(app_client, db)


def test_the_list_pages_with_a_cursor(
    app_client: TestClient, admin: StaffLogin, db: Database, settings: Settings
) -> None:
    ids = [take(db, settings, GARBAGE + bytes([n])).quarantine_id for n in range(5)]
    first = app_client.get(QUARANTINE, params={"limit": "3"}, headers=admin.headers).json()
    rest = app_client.get(QUARANTINE, params={"limit": "3", "cursor": first["next_cursor"]}, headers=admin.headers)
    assert [e["id"] for e in first["items"] + rest.json()["items"]] == ids[::-1]
    assert rest.json()["next_cursor"] is None


# --- the page (the same on both databases: SQLite only) ---------------------------------------------


def _web_login(client: TestClient, db: Database) -> str:
    with db.write() as session:
        accounts.create_user(session, email="web-admin@example.com", password=PASSWORD, role=Role.ADMIN)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token
    data = {"email": "web-admin@example.com", "password": PASSWORD, "csrf_token": token.group(1)}
    assert client.post("/login", data=data, follow_redirects=False).status_code == 303
    page = client.get("/admin/mail")
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    return found.group(1) if found else ""


def test_the_page_lists_the_quarantine_and_its_buttons_work(
    app_client: TestClient, db: Database, settings: Settings, backend: str
) -> None:
    if backend != "sqlite":
        pytest.skip("the page is the same on both databases; the API tests run on both")
    first = take(db, settings, GARBAGE).quarantine_id
    second = take(db, settings, GARBAGE + b"2").quarantine_id
    csrf = _web_login(app_client, db)
    zh = app_client.get("/admin/mail?lang=zh")
    assert zh.status_code == 200 and "邮件隔离" in zh.text and "重试" in zh.text and "丢弃" in zh.text
    assert f'id="quarantine-{first}"' in zh.text and "no mail header fields" in zh.text
    en = app_client.get("/admin/mail?lang=en").text
    assert "Mail quarantine" in en and "Make a ticket" in en

    # HTMX: the row comes back in place.
    row = app_client.post(
        f"/admin/mail/{first}", data={"action": "drop", "csrf_token": csrf}, headers={"HX-Request": "true"}
    )
    assert row.status_code == 200 and row.text.lstrip().startswith(f'<tr id="quarantine-{first}"')
    assert "已丢弃" in row.text or "dropped" in row.text
    # A plain form: back to the page with a notice.
    made = app_client.post(
        f"/admin/mail/{second}", data={"action": "ticket", "csrf_token": csrf}, follow_redirects=False
    )
    assert made.status_code == 303 and "notice=done" in made.headers["location"]
    twice = app_client.post(
        f"/admin/mail/{second}", data={"action": "drop", "csrf_token": csrf}, follow_redirects=False
    )
    assert twice.status_code == 303 and "error=" in twice.headers["location"]
    assert app_client.get(twice.headers["location"]).status_code == 200
    assert "没有隔离的邮件" in app_client.get("/admin/mail?lang=zh").text
    bad = app_client.post(f"/admin/mail/{second}", data={"action": "explode", "csrf_token": csrf})
    assert 400 <= bad.status_code < 500
    no_csrf = app_client.post(f"/admin/mail/{second}", data={"action": "drop"})
    assert no_csrf.status_code == 403


# --- the command line -------------------------------------------------------------------------------


def _huiying(tmp_path: Path, db: Database, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HUIYING_DATA_DIR": str(tmp_path / "var"), "HUIYING_DATABASE_URL": db.url}
    return subprocess.run(
        [sys.executable, "-m", "huiying", *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120
    )


def test_mail_import_over_a_folder_and_an_mbox_prints_a_line_per_mail(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    folder = tmp_path / "export" / "2026"
    folder.mkdir(parents=True)
    first_id = "first.0001@mail.example.net"
    (folder / "a.eml").write_bytes(mail(message_id=first_id))
    (folder / "b.eml").write_bytes(mail(subject="Re: 会员充值失败", body="补充说明", in_reply_to=first_id))
    (folder / "c.eml").write_bytes(GARBAGE)
    (folder / "README.txt").write_text("not mail: skipped")
    (folder / ".hidden.eml").write_bytes(mail())
    box = tmp_path / "inbox.mbox"
    with box.open("wb") as out:
        for raw in (mail(body="邮箱里的第一封"), mail(message_id=first_id), mail(headers=("X-Spam-Flag: YES",))):
            out.write(b"From li.lei@example.net Wed Dec  2 10:00:00 2026\n" + raw.replace(b"\r\n", b"\n") + b"\n")

    result = _huiying(tmp_path, db, "mail", "import", str(tmp_path / "export"), str(box))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    number = r"HY\d{6}-\d{4}"
    assert len(lines) == 7, lines
    assert re.fullmatch(number, lines[0]) and lines[1] == lines[0]  # b threads onto a's ticket
    assert lines[2] == "quarantined: no mail header fields: not a mail"
    assert re.fullmatch(number, lines[3]) and lines[3] != lines[0]
    assert lines[4] == f"duplicate: {lines[0]}"  # the mbox held a copy of a.eml
    assert re.fullmatch(number, lines[5])  # spam: still a ticket
    assert lines[6] == "imported=3 threaded=1 quarantined=1 failed=0 duplicate=1"

    again = _huiying(tmp_path, db, "mail", "import", "--show-source", str(box), str(tmp_path / "missing.eml"))
    assert again.returncode == 1
    assert again.stdout.splitlines() == [
        f"{box}#1\tduplicate: {lines[3]}",
        f"{box}#2\tduplicate: {lines[0]}",
        f"{box}#3\tduplicate: {lines[5]}",
        f"{tmp_path / 'missing.eml'}\tfailed: {tmp_path / 'missing.eml'}: no such file or folder",
        "imported=0 threaded=0 quarantined=0 failed=1 duplicate=3",
    ]
    with db.read() as session:
        assert session.scalars(select(MailQuarantine.source)).all() == [str(folder / "c.eml")]
