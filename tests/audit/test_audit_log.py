"""The audit log: every change recorded, chained, append-only, and tampering detected."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from conftest import StaffLogin, login
from helpers import submit
from huiying.audit import service as audit
from huiying.db import Database
from huiying.kit.roles import Role


def _entries(client: TestClient, auditor: StaffLogin, **params: str) -> list[dict]:  # type: ignore[type-arg]
    answer = client.get("/api/v1/audit", params={"limit": 500, **params}, headers=auditor.headers)
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]  # type: ignore[no-any-return]


@pytest.fixture
def auditor(app_client: TestClient, db: Database) -> StaffLogin:
    return login(app_client, db, email="auditor@example.com", role=Role.AUDITOR)


def test_changes_logins_and_pii_views_are_recorded(
    app_client: TestClient, admin: StaffLogin, auditor: StaffLogin
) -> None:
    number = submit(app_client)["number"]
    app_client.patch(f"/api/v1/tickets/{number}", json={"priority": "urgent"}, headers=admin.headers)
    app_client.get(f"/api/v1/tickets/{number}", headers=admin.headers)  # admin sees the phone unmasked
    app_client.post("/api/v1/auth/token", json={"email": admin.email, "password": "wrong password"})

    entries = _entries(app_client, auditor)
    actions = [e["action"] for e in entries]
    assert "ticket.created" in actions
    assert "auth.login" in actions and "auth.login_failed" in actions
    # The priority change (the SLA's recomputed targets follow it as entries of their own).
    change = next(e for e in entries if e["action"] == "ticket.field_changed" and "priority" in (e["before"] or {}))
    assert (change["object_id"], change["before"], change["after"]) == (
        number,
        {"priority": "medium"},
        {"priority": "urgent"},
    )
    assert change["actor"] == "admin" and change["ip"]
    viewed = next(e for e in entries if e["action"] == "pii.viewed")
    assert viewed["object_id"] == number
    # Newest first, sequence without gaps.
    seqs = [e["seq"] for e in entries]
    assert seqs == sorted(seqs, reverse=True) == list(range(len(seqs), 0, -1))


def test_filters_and_pagination(app_client: TestClient, auditor: StaffLogin) -> None:
    numbers = [submit(app_client)["number"] for _ in range(3)]
    only_one = _entries(app_client, auditor, object_type="ticket", object_id=numbers[1])
    # Its creation, and what routing did to it: all about that one ticket.
    assert {e["object_id"] for e in only_one} == {numbers[1]} and len(only_one) >= 1
    first = app_client.get(
        "/api/v1/audit", params={"limit": 2, "action": "ticket.created"}, headers=auditor.headers
    ).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = app_client.get(
        "/api/v1/audit",
        params={"cursor": first["next_cursor"], "action": "ticket.created"},
        headers=auditor.headers,
    ).json()
    assert [e["object_id"] for e in first["items"] + rest["items"]] == list(reversed(numbers))


def test_export_as_csv_and_json_lines(app_client: TestClient, auditor: StaffLogin) -> None:
    submit(app_client)
    csv_answer = app_client.get("/api/v1/audit/export", headers=auditor.headers)
    assert csv_answer.status_code == 200
    assert csv_answer.headers["content-type"].startswith("text/csv")
    lines = csv_answer.text.lstrip("\ufeff").splitlines()
    assert lines[0].startswith("seq,at,actor_type")
    assert any("ticket.created" in line for line in lines[1:])
    jsonl = app_client.get("/api/v1/audit/export?format=jsonl", headers=auditor.headers)
    assert jsonl.text.count("\n") >= 1 and '"action"' in jsonl.text


def test_the_chain_verifies_and_the_log_refuses_changes(
    app_client: TestClient, db: Database, auditor: StaffLogin
) -> None:
    for _ in range(3):
        submit(app_client)
    answer = app_client.get("/api/v1/audit/verify", headers=auditor.headers).json()
    assert answer["ok"] is True and answer["entries"] >= 3
    with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as connection:
        connection.execute(text("UPDATE audit_log SET actor_name = 'someone else' WHERE seq = 1"))
    with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_log WHERE seq = 2"))


def _drop_guards(db: Database) -> None:
    """What an attacker with database superuser rights could do first."""
    with db.engine.begin() as connection:
        if db.is_sqlite:
            connection.execute(text("DROP TRIGGER audit_log_no_update"))
            connection.execute(text("DROP TRIGGER audit_log_no_delete"))
            connection.execute(text("DROP TRIGGER audit_log_arrives_unchained"))
        else:
            connection.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))


def _verify_cli(db: Database, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HUIYING_DATABASE_URL": db.url, "HUIYING_DATA_DIR": str(tmp_path / "var")}
    return subprocess.run(
        [sys.executable, "-m", "huiying", "audit", "verify"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_cli_verify_names_the_first_changed_entry(app_client: TestClient, db: Database, tmp_path: Path) -> None:
    for _ in range(4):
        submit(app_client)
    ok = _verify_cli(db, tmp_path)
    assert ok.returncode == 0, ok.stderr
    last_line = ok.stdout.strip().splitlines()[-1]
    with db.read() as session:
        total = audit.verify(session).entries
    assert last_line == f"audit chain ok: entries={total}"

    _drop_guards(db)
    with db.engine.begin() as connection:
        connection.execute(text("UPDATE audit_log SET actor_name = 'nobody' WHERE seq = 2"))
    broken = _verify_cli(db, tmp_path)
    assert broken.returncode == 1
    assert "entry 2" in broken.stdout


def test_cli_verify_notices_a_deleted_entry_and_a_cut_tail(
    app_client: TestClient, db: Database, tmp_path: Path
) -> None:
    for _ in range(4):
        submit(app_client)
    audit.chain_all(db)  # entries are chained after commit; tamper with chained ones
    _drop_guards(db)
    with db.engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_log WHERE seq = 3"))
    missing = _verify_cli(db, tmp_path)
    assert missing.returncode == 1 and "entry 3" in missing.stdout
    with db.engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_log WHERE seq >= 3"))
    cut = _verify_cli(db, tmp_path)
    assert cut.returncode == 1 and "entry 3" in cut.stdout


def test_a_rolled_back_change_leaves_no_audit_entry(app_client: TestClient, db: Database, admin: StaffLogin) -> None:
    number = submit(app_client)["number"]
    audit.chain_all(db)
    with db.read() as session:
        before = audit.verify(session).entries
    refused = app_client.post(f"/api/v1/tickets/{number}/status", json={"status": "merged"}, headers=admin.headers)
    assert refused.status_code == 409
    audit.chain_all(db)
    with db.read() as session:
        after = audit.verify(session)
    assert after.entries == before and after.broken is None


def test_an_edit_records_only_what_changed_and_a_no_op_records_nothing(
    app_client: TestClient, admin: StaffLogin, auditor: StaffLogin
) -> None:
    patch = {"name_zh": "财务组", "name_en": "Finance"}  # the English name is the default already
    for _ in range(2):  # the second time nothing changes
        answer = app_client.patch("/api/v1/teams/finance", json=patch, headers=admin.headers)
        assert answer.status_code == 200, answer.text

    edits = _entries(app_client, auditor, action="team.updated")
    assert len(edits) == 1
    assert edits[0]["object_id"] == "finance"
    assert (edits[0]["before"], edits[0]["after"]) == ({"name_zh": "财务"}, {"name_zh": "财务组"})
