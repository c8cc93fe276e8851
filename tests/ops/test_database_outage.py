"""Item 16.8: a database that is down, silent or locked answers 503 + Retry-After, never a 500 or a hang;
/healthz answers while every request thread is blocked."""

from __future__ import annotations

import socket
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from servers import served
from sqlalchemy import text

from conftest import _free_port
from huiying.app import create_app
from huiying.config import Settings
from huiying.db import Database, Timeouts

FAST = Timeouts(connect=1, statement=5, lock=1, pool=1, sqlite_busy=1)


def _settings(tmp_path: Path, url: str) -> Settings:
    return Settings(data_dir=tmp_path / "var", database_url=url, secret_key="k" * 48, embedded_jobs=False)


def _assert_outage_answers(client: TestClient) -> None:
    api = client.post("/api/v1/feedback", json={"description": "看直播一直卡", "contact": "13912345678"})
    assert api.status_code == 503, api.text
    assert int(api.headers["retry-after"]) > 0
    error = api.json()["error"]
    assert error["code"] == "database_unavailable" and error["message"] and "details" in error
    page = client.get("/feedback")
    assert page.status_code == 503 and page.headers["content-type"].startswith("text/html")
    assert int(page.headers["retry-after"]) > 0
    assert "服务暂时不可用" in page.text and '{"error"' not in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    sent = client.post("/feedback", data={"description": "看直播一直卡"})
    assert sent.status_code == 503 and sent.headers["content-type"].startswith("text/html")
    assert "服务暂时不可用" in sent.text
    english = client.get("/feedback?lang=en")
    assert english.status_code == 503 and "Temporarily unavailable" in english.text
    assert client.get("/healthz").json() == {"status": "ok"}


def test_a_refused_postgresql_answers_503(tmp_path: Path) -> None:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{_free_port()}/nothing"
    database = Database(url, FAST)
    with TestClient(create_app(_settings(tmp_path, url), database), raise_server_exceptions=False) as client:
        _assert_outage_answers(client)
    database.dispose()


@contextmanager
def silent_server() -> Iterator[int]:
    """A port that accepts connections and never says a word, like a stopped PostgreSQL."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    try:
        yield int(listener.getsockname()[1])
    finally:
        listener.close()


def test_a_silent_postgresql_answers_503_after_the_connect_timeout(tmp_path: Path) -> None:
    with silent_server() as port:
        url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/nothing"
        database = Database(url, FAST)
        with TestClient(create_app(_settings(tmp_path, url), database), raise_server_exceptions=False) as client:
            _assert_outage_answers(client)
        database.dispose()


@contextmanager
def database_locked(db: Database) -> Iterator[None]:
    """Another connection holds the lock that writing tickets needs (only this test's database)."""
    if db.is_sqlite:
        path = db.engine.url.database
        assert path
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            other.execute("ROLLBACK")
            other.close()
        return
    with db.engine.connect() as other:
        transaction = other.begin()
        other.execute(text("LOCK TABLE tickets IN ACCESS EXCLUSIVE MODE"))
        try:
            yield
        finally:
            transaction.rollback()


def test_a_locked_database_answers_503_instead_of_hanging(settings: Settings, db: Database) -> None:
    quick = Database(db.url, FAST)
    with TestClient(create_app(settings, quick), raise_server_exceptions=False) as client:
        with database_locked(db):
            answer = client.post("/api/v1/feedback", json={"description": "看直播一直卡"})
        assert answer.status_code == 503, answer.text
        assert int(answer.headers["retry-after"]) > 0
        assert answer.json()["error"]["code"] == "database_unavailable"
        # Once the lock is gone the same process serves again.
        assert client.post("/api/v1/feedback", json={"description": "看直播一直卡"}).status_code == 201
    quick.dispose()


def test_healthz_answers_while_every_request_thread_is_blocked(settings: Settings, db: Database) -> None:
    app = create_app(settings, db)
    inside = threading.Semaphore(0)
    release = threading.Event()

    def stuck() -> dict[str, str]:
        inside.release()
        release.wait(60)
        return {"status": "released"}

    app.add_api_route("/test-stuck", stuck, methods=["GET"])
    with served(settings, db, app=app) as base:
        callers = [
            threading.Thread(target=httpx.get, args=(f"{base}/test-stuck",), kwargs={"timeout": 90})
            for _ in range(settings.worker_threads)
        ]
        for caller in callers:
            caller.start()
        try:
            for _ in callers:
                assert inside.acquire(timeout=30), "the request threads did not all start"
            # Every request thread is now taken; /healthz must not need one.
            assert httpx.get(f"{base}/healthz", timeout=20).json() == {"status": "ok"}
        finally:
            release.set()
            for caller in callers:
                caller.join(timeout=30)


@pytest.fixture(autouse=True)
def _no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
