"""Mailboxes admins configure beside HUIYING_IMAP_URL: the API (both back ends; the password taken,
never in any answer nor in the audit log; bad input a 4xx), polled by the mail_poll job and
`huiying mail poll` against the real pymap server of test_imap.py (tickets; last poll and last
error recorded; a broken mailbox never stops the others), watched with IDLE, the admin page,
and the migration up and down."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from imap_server import PASSWORD, USER, ImapServer
from mail_samples import mail
from sqlalchemy import func, inspect, select
from test_imap import _no_failures_left_over, imap_server  # the pymap server fixture, shared

from conftest import PASSWORD as STAFF_PASSWORD
from conftest import StaffLogin, login
from huiying import migrate
from huiying.accounts import service as staff_accounts
from huiying.channels.email import imap
from huiying.channels.email.imap_client import KEYWORD, ImapError
from huiying.config import Settings
from huiying.db import Database, make_engine
from huiying.kit.roles import Role
from huiying.tickets.models import Ticket

__all__ = ["_no_failures_left_over", "imap_server"]

MAILBOXES = "/api/v1/mail/mailboxes"
SECRET = "Mailbox-Pass-5ecret!"


def _body(**fields: Any) -> dict[str, Any]:
    return {
        "name": "售后邮箱",
        "host": "imap.example.com",
        "username": "after-sales@example.com",
        "password": SECRET,
    } | (fields)


def _audit_text(client: TestClient, db: Database) -> tuple[list[str], str]:
    auditor = login(client, db, email=f"auditor-{time.monotonic_ns()}@example.com", role=Role.AUDITOR)
    answer = client.get("/api/v1/audit", headers=auditor.headers)
    assert answer.status_code == 200, answer.text
    return [e["action"] for e in answer.json()["items"]], answer.text


def _tickets(db: Database) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(Ticket)) or 0)


def _account_for(client: TestClient, admin: StaffLogin, server: ImapServer, folder: str, **fields: Any) -> int:
    """An account on the pymap server: plain IMAP, which is fine to this machine."""
    body = {
        "name": fields.pop("name", folder),
        "host": "127.0.0.1",
        "port": server.port,
        "username": USER,
        "password": fields.pop("password", PASSWORD),
        "folder": folder,
        "security": "plain-local",
        **fields,
    }
    answer = client.post(MAILBOXES, json=body, headers=admin.headers)
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"])


# --- the API ------------------------------------------------------------------------------------


def test_admins_add_change_and_remove_mailboxes_and_the_password_never_comes_back(
    app_client: TestClient, admin: StaffLogin, db: Database
) -> None:
    created = app_client.post(MAILBOXES, json=_body(move_to="已处理"), headers=admin.headers)
    assert created.status_code == 201, created.text
    box = created.json()
    assert box["has_password"] is True and "password" not in box and SECRET not in created.text
    assert (box["port"], box["security"], box["folder"], box["move_to"]) == (993, "imaps", "INBOX", "已处理")
    assert box["enabled"] is True and box["last_polled_at"] is None and box["last_error"] is None
    assert box["created_by"] is not None

    listed = app_client.get(MAILBOXES, headers=admin.headers)
    assert [m["name"] for m in listed.json()["items"]] == ["售后邮箱"] and SECRET not in listed.text
    one = app_client.get(f"{MAILBOXES}/{box['id']}", headers=admin.headers)
    assert one.status_code == 200 and one.json() == box

    # STARTTLS keeps the usual port moving with it; a new password is taken, not shown.
    changed = app_client.patch(
        f"{MAILBOXES}/{box['id']}",
        json={"security": "starttls", "password": "N3w-" + SECRET, "enabled": False, "move_to": None},
        headers=admin.headers,
    )
    assert changed.status_code == 200, changed.text
    after = changed.json()
    assert (after["security"], after["port"], after["enabled"], after["move_to"]) == ("starttls", 143, False, None)
    assert SECRET not in changed.text and after["updated_at"] >= box["updated_at"]
    renamed = app_client.patch(f"{MAILBOXES}/{box['id']}", json={"name": "客服邮箱"}, headers=admin.headers)
    assert renamed.status_code == 200 and renamed.json()["name"] == "客服邮箱"

    assert app_client.delete(f"{MAILBOXES}/{box['id']}", headers=admin.headers).status_code == 204
    assert app_client.get(f"{MAILBOXES}/{box['id']}", headers=admin.headers).status_code == 404
    assert app_client.get(MAILBOXES, headers=admin.headers).json() == {"items": []}

    actions, text = _audit_text(app_client, db)
    assert {"mail.account_created", "mail.account_updated", "mail.account_deleted"} <= set(actions)
    assert SECRET not in text and "password_changed" in text


def test_bad_input_is_refused_with_a_4xx_never_a_500(app_client: TestClient, admin: StaffLogin, db: Database) -> None:
    def post(**fields: Any) -> tuple[int, str]:
        answer = app_client.post(MAILBOXES, json=_body(**fields), headers=admin.headers)
        assert SECRET not in answer.text
        return answer.status_code, answer.json().get("error", {}).get("code", "")

    assert post(security="telnet")[0] == 422
    assert post(security="plain-local") == (422, "mailbox_not_local")  # the password would travel in clear
    assert post(security="plain-local", host="10.0.0.8") == (422, "mailbox_not_local")
    assert post(host="imap.example.com/INBOX") == (422, "invalid_mailbox")
    assert post(host="bad host")[0] == 422
    assert post(port=70000)[0] == 422
    assert post(password="")[0] == 422
    assert post(name="")[0] == 422
    assert post(colour="blue")[0] == 422  # unknown fields are refused
    missing = app_client.post(MAILBOXES, json={"name": "x", "host": "imap.example.com"}, headers=admin.headers)
    assert missing.status_code == 422

    assert post() == (201, "")
    assert post() == (409, "mailbox_name_taken")
    assert post(name="本机", security="plain-local", host="127.0.0.1", port=1143) == (201, "")
    assert post(name="本机6", security="plain-local", host="::1") == (201, "")
    local = next(m for m in app_client.get(MAILBOXES, headers=admin.headers).json()["items"] if m["name"] == "本机")
    moved = app_client.patch(f"{MAILBOXES}/{local['id']}", json={"host": "mail.example.org"}, headers=admin.headers)
    assert moved.status_code == 422 and moved.json()["error"]["code"] == "mailbox_not_local"
    taken = app_client.patch(f"{MAILBOXES}/{local['id']}", json={"name": "售后邮箱"}, headers=admin.headers)
    assert taken.status_code == 409
    assert app_client.patch(f"{MAILBOXES}/999", json={"enabled": False}, headers=admin.headers).status_code == 404
    assert app_client.delete(f"{MAILBOXES}/999", headers=admin.headers).status_code == 404
    assert app_client.post(f"{MAILBOXES}/999/test", headers=admin.headers).status_code == 404

    supervisor = login(app_client, db, email="sup@example.com", role=Role.SUPERVISOR, teams=["finance"])
    assert app_client.get(MAILBOXES, headers=supervisor.headers).status_code == 403
    assert app_client.post(MAILBOXES, json=_body(name="n"), headers=supervisor.headers).status_code == 403
    assert app_client.get(MAILBOXES).status_code == 401


# --- polling ------------------------------------------------------------------------------------


def test_a_configured_mailbox_is_polled_into_tickets_and_its_poll_recorded(
    imap_server: ImapServer, app_client: TestClient, admin: StaffLogin, db: Database, settings: Settings
) -> None:
    folder = imap_server.new_folder(keywords=True)
    imap_server.append(folder, mail(body="后台配置的邮箱收到的第一封"), mail(body="第二封"))
    account = _account_for(app_client, admin, imap_server, folder)

    tested = app_client.post(f"{MAILBOXES}/{account}/test", headers=admin.headers)
    assert tested.status_code == 200 and tested.json()["ok"] is True and tested.json()["waiting"] == 2
    assert _tickets(db) == 0  # a test takes nothing in

    assert settings.imap_url is None
    try:
        imap.configure(settings)  # no HUIYING_IMAP_URL: the job polls the admins' mailboxes all the same
        imap.poll_job(db)
    finally:
        imap.configure(settings)
    assert _tickets(db) == 2 and imap_server.flags(folder) == [{KEYWORD}, {KEYWORD}]
    box = app_client.get(f"{MAILBOXES}/{account}", headers=admin.headers).json()
    assert box["last_polled_at"] is not None and box["last_error"] is None

    # Disabled: no longer polled.
    app_client.patch(f"{MAILBOXES}/{account}", json={"enabled": False}, headers=admin.headers)
    imap_server.append(folder, mail(body="停用之后到达"))
    assert imap.configured_mailboxes(db, settings) == []
    imap.configure(settings)
    imap.poll_job(db)
    assert _tickets(db) == 2


def test_a_mailbox_with_a_wrong_password_records_its_error_and_the_others_are_still_polled(
    imap_server: ImapServer, app_client: TestClient, admin: StaffLogin, db: Database, settings: Settings
) -> None:
    env_folder, good_folder = imap_server.new_folder(keywords=True), imap_server.new_folder(keywords=True)
    imap_server.append(env_folder, mail(body="环境变量邮箱的邮件"))
    imap_server.append(good_folder, mail(body="正常邮箱的邮件"))
    wrong = "Wr0ng-Pass-77"
    broken = _account_for(app_client, admin, imap_server, good_folder, name="密码错误", password=wrong)
    good = _account_for(app_client, admin, imap_server, good_folder, name="正常")

    ours = settings.model_copy(update={"imap_url": imap_server.url(env_folder)})
    try:
        imap.configure(ours)
        with pytest.raises(ImapError) as failed:
            imap.poll_job(db)  # the run fails, naming the broken mailbox, after polling the others
    finally:
        imap.configure(settings)
    assert "密码错误" in str(failed.value) and wrong not in str(failed.value)
    assert _tickets(db) == 2
    assert imap_server.flags(env_folder) == [{KEYWORD}] and imap_server.flags(good_folder) == [{KEYWORD}]

    boxes = {m["id"]: m for m in app_client.get(MAILBOXES, headers=admin.headers).json()["items"]}
    assert boxes[broken]["last_polled_at"] and boxes[broken]["last_error"]
    assert wrong not in boxes[broken]["last_error"] and f"{USER}@127.0.0.1" in boxes[broken]["last_error"]
    assert boxes[good]["last_polled_at"] and boxes[good]["last_error"] is None

    tested = app_client.post(f"{MAILBOXES}/{broken}/test", headers=admin.headers)
    assert tested.status_code == 200 and tested.json()["ok"] is False and wrong not in tested.text

    # Fixed: the next poll clears the error.
    app_client.patch(f"{MAILBOXES}/{broken}", json={"password": PASSWORD}, headers=admin.headers)
    imap.configure(settings)
    imap.poll_job(db)
    assert app_client.get(f"{MAILBOXES}/{broken}", headers=admin.headers).json()["last_error"] is None


def test_huiying_mail_poll_polls_the_admins_mailboxes_without_huiying_imap_url(
    imap_server: ImapServer, app_client: TestClient, admin: StaffLogin, db: Database, tmp_path: Path
) -> None:
    folder = imap_server.new_folder(keywords=True)
    imap_server.append(folder, mail(body="命令行收取"))
    _account_for(app_client, admin, imap_server, folder)
    env = {**os.environ, "HUIYING_DATA_DIR": str(tmp_path / "var"), "HUIYING_DATABASE_URL": db.url}
    env.pop("HUIYING_IMAP_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "huiying", "mail", "poll"], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert re.fullmatch(r"HY\d{6}-\d{4}", lines[0]) and lines[-1] == "imported=1 threaded=0 quarantined=0 failed=0"


def test_watchers_watch_the_admins_mailboxes_with_idle(
    imap_server: ImapServer, app_client: TestClient, admin: StaffLogin, db: Database, settings: Settings
) -> None:
    folder = imap_server.new_folder(keywords=True)
    _account_for(app_client, admin, imap_server, folder)
    watchers = imap.Watchers(db, settings)
    try:
        assert watchers.start() == 1
        imap_server.append(folder, mail(body="IDLE 收到的邮件"))
        deadline = time.monotonic() + 20
        while _tickets(db) < 1 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        watchers.stop()
    assert _tickets(db) == 1


def test_a_mailbox_added_while_watching_gets_its_watcher_and_a_disabled_one_loses_it(
    imap_server: ImapServer, app_client: TestClient, admin: StaffLogin, db: Database, settings: Settings
) -> None:
    folder = imap_server.new_folder(keywords=True)
    watchers = imap.Watchers(db, settings, refresh_seconds=0.2)
    try:
        assert watchers.start() == 0 and not watchers.alive()  # nothing configured yet
        account_id = _account_for(app_client, admin, imap_server, folder)
        imap_server.append(folder, mail(body="后来添加的邮箱收到的邮件"))
        deadline = time.monotonic() + 20
        while _tickets(db) < 1 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _tickets(db) == 1 and watchers.alive()
        answer = app_client.patch(f"{MAILBOXES}/{account_id}", json={"enabled": False}, headers=admin.headers)
        assert answer.status_code == 200, answer.text
        imap_server.append(folder, mail(sender="wang@example.org", body="停用之后的邮件"))
        deadline = time.monotonic() + 20
        while watchers.alive() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not watchers.alive()  # its watcher ended at its next wake-up
    finally:
        watchers.stop()


# --- the page (the same on both databases: SQLite only) -----------------------------------------


def _web_login(client: TestClient, db: Database) -> str:
    with db.write() as session:
        staff_accounts.create_user(session, email="web-admin@example.com", password=STAFF_PASSWORD, role=Role.ADMIN)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token
    data = {"email": "web-admin@example.com", "password": STAFF_PASSWORD, "csrf_token": token.group(1)}
    assert client.post("/login", data=data, follow_redirects=False).status_code == 303
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/admin/mail").text)
    return found.group(1) if found else ""


def test_the_page_lists_the_mailboxes_and_its_forms_work(app_client: TestClient, db: Database, backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("the page is the same on both databases; the API tests run on both")
    csrf = _web_login(app_client, db)
    zh = app_client.get("/admin/mail?lang=zh")
    assert zh.status_code == 200 and "收取的邮箱" in zh.text and "尚未配置收取的邮箱" in zh.text
    assert "邮件隔离" in zh.text  # the quarantine stays on the same page
    en = app_client.get("/admin/mail?lang=en").text
    assert "Mailboxes polled" in en and "Add a mailbox" in en

    form = {
        "csrf_token": csrf,
        "name": "售后邮箱",
        "host": "127.0.0.1",
        "port": "1",  # nothing listens there: the test button says so
        "security": "plain-local",
        "username": "after-sales",
        "password": SECRET,
        "folder": "INBOX",
        "enabled": "1",
    }
    added = app_client.post("/admin/mail/mailboxes", data=form, follow_redirects=False)
    assert added.status_code == 303 and "notice=done" in added.headers["location"]
    page = app_client.get("/admin/mail?lang=zh").text
    found = re.search(r'id="mailbox-(\d+)"', page)
    assert found and "售后邮箱" in page and "本机明文" in page and SECRET not in page
    account = found.group(1)

    twice = app_client.post("/admin/mail/mailboxes", data=form, follow_redirects=False)
    assert twice.status_code == 303 and "error=" in twice.headers["location"]
    assert "已有同名的邮箱" in app_client.get(twice.headers["location"] + "&lang=zh").text
    remote = app_client.post(
        "/admin/mail/mailboxes", data=form | {"name": "远程", "host": "mail.example.org"}, follow_redirects=False
    )
    assert "本机的邮件服务器" in app_client.get(remote.headers["location"] + "&lang=zh").text
    empty = app_client.post("/admin/mail/mailboxes", data=form | {"name": ""}, follow_redirects=False)
    assert empty.status_code == 303 and "error=" in empty.headers["location"]

    tested = app_client.post(
        f"/admin/mail/mailboxes/{account}", data={"action": "test", "csrf_token": csrf}, follow_redirects=False
    )
    assert tested.status_code == 303
    shown = app_client.get(tested.headers["location"] + "&lang=zh").text
    assert 'id="mailbox-test"' in shown and "连接失败" in shown and SECRET not in shown

    disabled = app_client.post(
        f"/admin/mail/mailboxes/{account}", data={"action": "disable", "csrf_token": csrf}, follow_redirects=False
    )
    assert disabled.status_code == 303 and "已停用" in app_client.get("/admin/mail?lang=zh").text
    assert (
        app_client.post(f"/admin/mail/mailboxes/{account}", data={"action": "explode", "csrf_token": csrf}).status_code
        < 500
    )
    assert app_client.post(f"/admin/mail/mailboxes/{account}", data={"action": "delete"}).status_code == 403  # no CSRF
    app_client.post(f"/admin/mail/mailboxes/{account}", data={"action": "delete", "csrf_token": csrf})
    assert "尚未配置收取的邮箱" in app_client.get("/admin/mail?lang=zh").text


# --- the migration ------------------------------------------------------------------------------


def test_the_migration_adds_the_table_and_takes_it_away_again(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    try:
        migrate.upgrade(engine, "0025")
        assert "mail_accounts" in inspect(engine).get_table_names()
        names = {c["name"] for c in inspect(engine).get_columns("mail_accounts")}
        assert {"password_encrypted", "last_polled_at", "last_error", "created_by", "enabled"} <= names
        migrate.downgrade(engine, "0024")
        assert "mail_accounts" not in inspect(engine).get_table_names()
        assert migrate.current(engine) == "0024"
        migrate.upgrade(engine)
        assert "mail_accounts" in inspect(engine).get_table_names()
    finally:
        engine.dispose()
