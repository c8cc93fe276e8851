"""Item 16.3: no personal data in log lines, tracebacks of database errors included."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from helpers import feedback
from huiying import logs
from huiying.app import create_app
from huiying.config import Settings
from huiying.db import Database

EMAIL = "alice.secret@example.com"
PHONE = "13912345678"
BODY = "私密正文ZQX7"


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """Everything logged while the test runs, through the server's own log set-up."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    stream = io.StringIO()
    logs.configure("INFO", stream=stream)
    try:
        yield stream
    finally:
        root.handlers[:], root.level = saved[0], saved[1]


def _break_ticket_inserts(db: Database) -> Any:
    """Make the database itself refuse the ticket INSERT, with the request's real parameters."""

    def rewrite(_conn: Any, _cursor: Any, statement: str, parameters: Any, _ctx: Any, _many: bool) -> Any:
        if statement.startswith("INSERT INTO tickets "):
            statement = statement.replace("INSERT INTO tickets ", "INSERT INTO no_such_tickets ", 1)
        return statement, parameters

    event.listen(db.engine, "before_cursor_execute", rewrite, retval=True)
    return rewrite


def test_a_failing_statement_logs_neither_parameters_nor_personal_data(
    settings: Settings, db: Database, log_output: io.StringIO
) -> None:
    rewrite = _break_ticket_inserts(db)
    try:
        with TestClient(create_app(settings, db), raise_server_exceptions=False) as client:
            body = feedback(description=f"{BODY} 我的邮箱 {EMAIL} 电话 {PHONE}", contact=EMAIL, user_id=PHONE)
            answer = client.post("/api/v1/feedback", json=body)
    finally:
        event.remove(db.engine, "before_cursor_execute", rewrite)
    assert answer.status_code >= 500
    written = log_output.getvalue()
    assert "no_such_tickets" in written, "the database error was not logged"
    assert "Traceback" in written
    for secret in (EMAIL, PHONE, BODY):
        assert secret not in written, secret


def test_uvicorn_lines_and_exception_text_are_masked(log_output: io.StringIO) -> None:
    logging.getLogger("uvicorn.error").warning("client %s sent garbage", EMAIL)
    try:
        raise ValueError(f"bad contact {PHONE} / {EMAIL}")
    except ValueError:
        logging.getLogger("huiying.test").exception("failed")
    written = log_output.getvalue()
    assert "ValueError: bad contact 139****5678" in written
    assert EMAIL not in written and PHONE not in written


@pytest.mark.parametrize(
    ("line", "hidden"),
    [
        ("[parameters: ('13912345678', 'body')]", "'body'"),
        ("DETAIL:  Failing row contains (1, 私密正文, x).", "私密正文"),
        ("DETAIL:  Key (email)=(someone@example.org) already exists.", "someone@example.org"),
        ("DETAIL:  Key (user_id)=(u-777) is not present in table", "u-777"),
    ],
)
def test_values_quoted_by_database_errors_are_removed(line: str, hidden: str) -> None:
    masked = logs.mask_log_text(line)
    assert hidden not in masked
    assert "…" in masked or "hidden" in masked
