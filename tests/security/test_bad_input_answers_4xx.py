"""Bad input the outside probe turned into 500s: deeply nested JSON, tampered cursors, NUL bytes
in web forms (PostgreSQL refuses them), descriptions with nothing visible in them. Each is a
clear 4xx (or, for NUL bytes, cleaned away as the JSON API does) and writes nothing half-way."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import PASSWORD, StaffLogin
from helpers import counts, feedback, submit
from huiying.accounts import service as accounts
from huiying.db import Database
from huiying.kit.roles import Role


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("depth", [500, 700, 900])
def test_deeply_nested_json_is_refused(app_client: TestClient, db: Database, depth: int) -> None:
    before = counts(db)
    for body in (
        '{"description": "x", "tags": ' + _nested(depth) + "}",
        '{"description": "x", "device": {"os": ' + _nested(depth) + "}}",
        _nested(depth),
    ):
        answer = app_client.post("/api/v1/feedback", content=body, headers={"content-type": "application/json"})
        assert 400 <= answer.status_code < 500, (depth, answer.status_code, answer.text[:200])
        assert answer.json()["error"]["code"] in ("validation_error", "malformed_json")
    assert counts(db) == before


def _cursor(values: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


TAMPERED = [
    {"id": 1, "rank": "x"},
    {"id": 1, "rank": [1]},
    {"id": 1, "due": "x"},
    {"id": 1, "due": 5},
    {"id": 1, "due": {}},
    {"id": True},
    {"id": 10**30},
    {"id": 2**63},
    {"id": -(2**63) - 1},
    {"id": 1.5},
    {"id": "1"},
    {},
    [1],
    "id",
]


@pytest.mark.parametrize("sort", ["-created", "created", "priority", "due"])
def test_tampered_cursors_are_a_clear_4xx(app_client: TestClient, admin: StaffLogin, sort: str) -> None:
    submit(app_client)
    for values in TAMPERED:
        answer = app_client.get(
            "/api/v1/tickets", params={"cursor": _cursor(values), "sort": sort}, headers=admin.headers
        )
        assert answer.status_code in (400, 422), (sort, values, answer.status_code, answer.text[:200])
        assert answer.json()["error"]["code"] == "bad_cursor"


def test_a_cursor_the_server_gave_out_still_pages(app_client: TestClient, admin: StaffLogin) -> None:
    numbers = {submit(app_client)["number"] for _ in range(3)}
    for sort in ("-created", "created", "priority", "due"):
        seen: list[str] = []
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"sort": sort, "limit": 1, **({"cursor": cursor} if cursor else {})}
            page = app_client.get("/api/v1/tickets", params=params, headers=admin.headers).json()
            seen += [t["number"] for t in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert sorted(seen) == sorted(numbers), sort


BLANK = [" ", "   \n\t  ", "\u200b", "\u200b\u200c\u200d\u2060\ufeff", "\u3000 \u00a0", "\x00\x01 "]


def test_a_description_with_nothing_visible_is_refused(app_client: TestClient, db: Database) -> None:
    before = counts(db)
    for text in BLANK:
        answer = app_client.post("/api/v1/feedback", json=feedback(description=text))
        assert answer.status_code == 422, (repr(text), answer.text)
        error = answer.json()["error"]
        assert error["details"][0]["field"] == "body.description"
        assert "description" in error["message"] and "Value error" not in error["message"]
    assert counts(db) == before


def test_a_reply_with_nothing_visible_is_refused(app_client: TestClient, admin: StaffLogin, db: Database) -> None:
    number = submit(app_client)["number"]
    before = counts(db)
    for text in BLANK:
        answer = app_client.post(f"/api/v1/tickets/{number}/replies", json={"body": text}, headers=admin.headers)
        assert answer.status_code == 422, (repr(text), answer.text)
        assert answer.json()["error"]["details"][0]["field"] == "body.body"
    assert counts(db) == before


def _public_form(client: TestClient, path: str) -> str:
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert token, path
    return token.group(1)


def test_the_feedback_form_refuses_a_blank_description(app_client: TestClient, db: Database) -> None:
    before = counts(db)
    token = _public_form(app_client, "/feedback")
    for text in BLANK:
        answer = app_client.post("/feedback", data={"description": text, "csrf_token": token})
        assert answer.status_code == 422, (repr(text), answer.status_code)
        assert answer.headers["content-type"].startswith("text/html")
        assert "问题描述不能为空" in answer.text  # what is wrong, in the reader's language
    assert counts(db) == before


def _web_admin(client: TestClient, db: Database) -> str:
    """Log an admin in through the login form; the session's CSRF token."""
    with db.write() as session:
        accounts.create_user(session, email="forms@example.com", password=PASSWORD, role=Role.ADMIN)
    token = _public_form(client, "/login")
    answer = client.post(
        "/login",
        data={"email": "forms@example.com", "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    csrf = re.search(r'data-csrf="([^"]+)"', client.get("/tickets").text)
    assert csrf
    return csrf.group(1)


def test_nul_bytes_in_web_forms_are_cleaned_as_in_the_api(
    app_client: TestClient, db: Database, admin: StaffLogin
) -> None:
    number = submit(app_client)["number"]
    other = submit(app_client)["number"]
    csrf = _web_admin(app_client, db)
    nul = "a\x00b"
    forms: list[tuple[str, dict[str, str]]] = [
        (f"/tickets/{number}/reply", {"body": f"reply {nul}"}),
        (f"/tickets/{number}/reply", {"body": f"note {nul}", "internal": "on"}),
        (f"/tickets/{number}/status", {"status": "open", "note": f"status {nul}"}),
        (f"/tickets/{number}/update", {"title": f"title {nul}", "tags": f"t{nul}", "priority": "high"}),
        (f"/tickets/{number}/merge", {"into": f"{other}\x00"}),
        ("/admin/teams", {"slug": f"t{nul}", "name_zh": f"团队{nul}", "name_en": f"team {nul}"}),
        ("/admin/categories", {"slug": f"c{nul}", "name_zh": f"类{nul}", "name_en": f"cat {nul}"}),
        ("/admin/macros", {"name": f"macro {nul}", "body": f"body {nul}", "language": "zh"}),
        ("/admin/staff", {"email": f"x{nul}@example.com", "password": f"pw {nul} long enough", "role": "agent"}),
    ]
    for path, data in forms:
        answer = app_client.post(path, data={**data, "csrf_token": csrf}, follow_redirects=False)
        assert answer.status_code < 500, (path, answer.status_code, answer.text[:300])
    messages = app_client.get(f"/api/v1/tickets/{number}/messages", headers=admin.headers).json()
    bodies = [m["body"] for m in messages]
    assert "reply ab" in bodies and "note ab" in bodies
    assert all("\x00" not in b for b in bodies)
    anonymous = TestClient(app_client.app, raise_server_exceptions=False)
    token = _public_form(anonymous, "/login")
    login = anonymous.post("/login", data={"email": f"forms{nul}@example.com", "password": nul, "csrf_token": token})
    assert login.status_code < 500
    token = _public_form(anonymous, "/feedback")
    sent = anonymous.post(
        "/feedback",
        data={"description": f"desc {nul}", "user_id": f"u{nul}", "title": nul, "csrf_token": token},
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text[:300]
    token = _public_form(anonymous, "/portal")
    lookup = anonymous.post("/portal", data={"number": f"{number}\x00", "contact": nul, "csrf_token": token})
    assert lookup.status_code < 500


def test_the_reply_form_refuses_a_reply_with_nothing_visible(
    app_client: TestClient, db: Database, admin: StaffLogin
) -> None:
    number = submit(app_client)["number"]
    csrf = _web_admin(app_client, db)
    before = counts(db)
    for text in BLANK:
        answer = app_client.post(
            f"/tickets/{number}/reply", data={"body": text, "csrf_token": csrf}, follow_redirects=False
        )
        assert answer.status_code == 303 and "error=empty" in answer.headers["location"], (repr(text), answer.text)
    assert counts(db) == before
