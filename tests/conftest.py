"""Shared fixtures: the same tests run on SQLite and on PostgreSQL.

PostgreSQL comes from HUIYING_TEST_DATABASE_URL. Without it the PostgreSQL half is skipped with
a message, except under CI=true, where a missing or unreachable PostgreSQL fails the run.
Each test gets an empty, migrated database: SQLite from a copied template file, PostgreSQL by
truncating a database migrated once per test process. The PostgreSQL databases are created on the
server of HUIYING_TEST_DATABASE_URL under names unique to the run and dropped when it ends.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, Engine, make_url

from huiying import migrate
from huiying.accounts import service as accounts
from huiying.app import create_app
from huiying.bootstrap import ensure_defaults
from huiying.cli import server_options
from huiying.config import Settings, get_settings
from huiying.db import Database
from huiying.kit.roles import Role
from huiying.models import metadata
from huiying.tickets import day_sequences

PG_ENV = "HUIYING_TEST_DATABASE_URL"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
TEST_SECRET = "test-secret-key-" + "x" * 32
# Everything in the test process (services called directly, the app) uses this one key.
os.environ["HUIYING_SECRET_KEY"] = TEST_SECRET
# Triage changes category, priority and team of every new ticket; the tests of other mechanics
# keep it off so their expectations stay about those mechanics. Triage tests (and the browser
# end-to-end flow) turn it on with the `triage_on` fixture.
os.environ["HUIYING_TRIAGE_ENABLED"] = "false"
PASSWORD = "correct horse battery staple"


def postgres_url() -> str | None:
    """The PostgreSQL URL for tests, or None (skip) — but never None under CI."""
    url = os.environ.get(PG_ENV)
    if not url:
        if IN_CI:
            pytest.fail(f"CI=true but {PG_ENV} is not set: the PostgreSQL tests must run in CI")
        return None
    return url


# Names unique to this run: two runs against one server (two developers, a developer and CI)
# never share or drop each other's databases; each is dropped when its fixture ends.
RUN_ID = uuid.uuid4().hex[:10]


def _admin_engine(url: URL) -> Engine:
    return create_engine(url, isolation_level="AUTOCOMMIT")


@contextmanager
def scratch_database(base_url: str, suffix: str) -> Iterator[str]:
    """A new database on the server of `base_url`, unique to this run; dropped afterwards."""
    url = make_url(base_url)
    name = f"huiying_test_{RUN_ID}_{suffix}"
    admin = _admin_engine(url)
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any failure: report it and skip or fail
        admin.dispose()
        message = f"PostgreSQL at {url.render_as_string()} is not usable: {exc}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def worker_id_suffix(request: pytest.FixtureRequest) -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    database = Database(f"sqlite:///{path}")
    migrate.upgrade(database.engine)
    with database.write() as session:
        ensure_defaults(session)
    with database.engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    database.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_migrated(worker_id_suffix: str) -> Iterator[str]:
    base = postgres_url()
    if base is None:
        pytest.skip(f"PostgreSQL tests skipped: set {PG_ENV} to run them")
    with scratch_database(base, worker_id_suffix) as url:
        engine = create_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        yield url


def _truncate_all(database: Database) -> None:
    tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with database.engine.begin() as connection:
        # The audit log refuses TRUNCATE through a trigger; replica mode skips triggers.
        connection.execute(text("SET LOCAL session_replication_role = replica"))
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    day_sequences.drop(database.engine)  # ticket numbers: a day's sequence is not a table


@pytest.fixture
def triage_on(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Triage new tickets, as the product does by default."""
    from huiying.triage import service as triage

    monkeypatch.setenv("HUIYING_TRIAGE_ENABLED", "true")
    get_settings.cache_clear()
    # The app hands triage its settings at creation: one made before this fixture ran has it off.
    triage.configure(triage.TriageOptions.from_settings(get_settings()))
    yield
    monkeypatch.setenv("HUIYING_TRIAGE_ENABLED", "false")
    get_settings.cache_clear()
    triage.configure(triage.TriageOptions.from_settings(get_settings()))


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """An empty, migrated database with the default teams and categories."""
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "huiying.db"
        shutil.copyfile(template, path)
        database = Database(f"sqlite:///{path}")
        yield database
        database.dispose()
        return
    url: str = request.getfixturevalue("postgres_migrated")
    database = Database(url)
    _truncate_all(database)
    with database.write() as session:
        ensure_defaults(session)
    yield database
    database.dispose()


@pytest.fixture
def settings(tmp_path: Path, db: Database) -> Settings:
    return Settings(
        data_dir=tmp_path / "var",
        database_url=db.url,
        secret_key=TEST_SECRET,
        embedded_jobs=False,
        rate_limit_intake="0",
        rate_limit_login="0",
    )


@pytest.fixture
def app_client(settings: Settings, db: Database) -> Iterator[TestClient]:
    app = create_app(settings, db)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@dataclass(frozen=True)
class StaffLogin:
    email: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def login(client: TestClient, db: Database, *, email: str, role: Role, teams: list[str] | None = None) -> StaffLogin:
    """Create a staff account and log it in through the API."""
    with db.write() as session:
        accounts.create_user(session, email=email, password=PASSWORD, role=role, team_slugs=teams or [])
    answer = client.post("/api/v1/auth/token", json={"email": email, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return StaffLogin(email=email, token=answer.json()["access_token"])


def admin_browser(client: TestClient, db: Database, *, base_url: str = "http://testserver") -> TestClient:
    """A logged-in admin's browser (cookies, no token) on the app. `base_url`: the app's own
    (HUIYING_BASE_URL) when it is https, or its cookies would not come back."""
    browser = TestClient(client.app, base_url=base_url)
    email = f"pages-{uuid.uuid4().hex[:8]}@example.com"
    with db.write() as session:
        accounts.create_user(session, email=email, password=PASSWORD, role=Role.ADMIN, team_slugs=[])
    form = browser.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token
    answer = browser.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token.group(1)})
    assert answer.status_code == 200, answer.text
    return browser


def admin_page(client: TestClient, db: Database, path: str, *, base_url: str = "http://testserver") -> str:
    """A page as a logged-in admin sees it."""
    page = admin_browser(client, db, base_url=base_url).get(path)
    assert page.status_code == 200, page.text
    return page.text


@pytest.fixture
def admin(app_client: TestClient, db: Database) -> StaffLogin:
    return login(app_client, db, email="admin@example.com", role=Role.ADMIN)


@pytest.fixture
def agent(app_client: TestClient, db: Database) -> StaffLogin:
    """A first-line agent of no team: sees unrouted tickets, personal data masked."""
    return login(app_client, db, email="agent.on.duty@example.com", role=Role.AGENT)


@dataclass(frozen=True)
class LiveServer:
    base_url: str
    db: Database
    admin_token: str
    # The served app itself, so a test can add a route (e.g. one that fails) while it runs.
    app: Any = None

    @property
    def admin_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_token}"}


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def live_server(settings: Settings, db: Database) -> Iterator[LiveServer]:
    """The real app behind uvicorn on a local port (real HTTP parsing, real headers)."""
    import threading
    import time

    import httpx
    import uvicorn

    port = _free_port()
    app = create_app(settings, db)
    # Served as `huiying serve` serves it: forwarded headers believed from no one, our access log.
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=1, **server_options(settings)
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    with db.write() as session:
        accounts.create_user(session, email="live-admin@example.com", password=PASSWORD, role=Role.ADMIN)
    token = httpx.post(f"{base}/api/v1/auth/token", json={"email": "live-admin@example.com", "password": PASSWORD})
    try:
        yield LiveServer(base, db, token.json()["access_token"], app)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


# --- Browser tests: Debian's chromium driven by Playwright (never a downloaded browser). ---

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Chromium; without it the browser tests skip, except under CI=true where they fail."""
    if not os.path.exists(CHROMIUM):
        message = f"{CHROMIUM} is missing: `make test` installs Debian's chromium"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context (no cookies); every script dialog is recorded in `page.dialogs`."""
    context = browser.new_context(viewport={"width": 1360, "height": 900}, locale="zh-CN")
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    dialogs: list[str] = []
    tab.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    tab.dialogs = dialogs
    yield tab
    context.close()


def browser_login(
    page: Any, live_server: LiveServer, *, email: str, role: Role, teams: list[str] | None = None
) -> None:
    """Create a staff account and log in through the real login form."""
    with live_server.db.write() as session:
        accounts.create_user(session, email=email, password=PASSWORD, role=role, team_slugs=teams or [])
    page.goto(f"{live_server.base_url}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url("**/tickets")
