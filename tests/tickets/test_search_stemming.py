"""English search matches word forms: index and query both keep the Snowball stem of an English
word, so `q=crash` finds "crashes" (issue 16, item 18). Chinese search is unchanged, and tickets
stored before are re-indexed by a migration."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from conftest import TEST_SECRET, StaffLogin, postgres_url, scratch_database
from helpers import feedback, submit
from huiying import migrate
from huiying.audit import service as audit
from huiying.bootstrap import ensure_defaults
from huiying.config import Settings
from huiying.db import Database
from huiying.kit.actor import SYSTEM
from huiying.kit.text import search_terms, segment
from huiying.tickets import intake, repository
from huiying.tickets.models import Ticket
from huiying.tickets.repository import TicketQuery
from huiying.tickets.schemas import FeedbackIn

# (text, a word search_terms keeps for it)
STEMS = [
    ("The app crashes on start", "crash"),
    ("it keeps crashing", "crash"),
    ("Crashed twice today", "crash"),
    ("payments failed", "payment"),
    ("I was charged twice", "charg"),
    ("更新以后就闪退了", "闪退"),
    ("iPhone13 fails", "iphone13"),
]


@pytest.mark.parametrize(("text", "term"), STEMS)
def test_search_terms_keep_english_stems_and_chinese_words(text: str, term: str) -> None:
    assert term in search_terms(text)


def test_chinese_words_are_cut_as_before() -> None:
    text = "充值会员的时候提示支付失败，但是微信已经扣款"
    assert search_terms(text) == segment(text)


def _search(client: TestClient, admin: StaffLogin, q: str) -> set[str]:
    answer = client.get("/api/v1/tickets", params={"q": q}, headers=admin.headers)
    assert answer.status_code == 200, answer.text
    return {t["number"] for t in answer.json()["items"]}


def test_any_form_of_an_english_word_finds_the_others(app_client: TestClient, admin: StaffLogin) -> None:
    crash = submit(app_client, feedback(title="App crashes", description="The app crashes when I open my chats."))
    chinese = submit(app_client, feedback(title="闪退", description="更新以后一打开消息页面就闪退"))
    other = submit(app_client, feedback(title="Refund", description="I want my money back for the gift pack."))
    for q in ("crash", "crashes", "crashing", "CRASHED"):
        assert _search(app_client, admin, q) == {crash["number"]}, q
    assert _search(app_client, admin, "app crash") == {crash["number"]}
    assert _search(app_client, admin, "闪退") == {chinese["number"]}
    assert _search(app_client, admin, "消息页面闪退") == {chinese["number"]}
    assert _search(app_client, admin, "refunds") == {other["number"]}


# --- tickets stored before stemming are re-indexed by a migration ----------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path, worker_id_suffix: str) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'reindex.db'}"
        return
    base = postgres_url()
    if base is None:
        pytest.skip("PostgreSQL tests skipped: set HUIYING_TEST_DATABASE_URL to run them")
    with scratch_database(base, f"{worker_id_suffix}_reindex_{uuid.uuid4().hex[:6]}") as url:
        yield url


def test_the_migration_re_indexes_stored_tickets(empty_url: str, tmp_path: Path) -> None:
    database = Database(empty_url)
    try:
        migrate.upgrade(database.engine)
        settings = Settings(data_dir=tmp_path / "var", database_url=empty_url, secret_key=TEST_SECRET)
        text = "Since the update the app crashes every time"
        with database.write() as session:
            ensure_defaults(session)
            ticket = intake.create_ticket(
                session, feedback=FeedbackIn(description=text), actor=SYSTEM, settings=settings
            ).ticket
            # As stored before stemming: the plain words.
            session.execute(update(Ticket).where(Ticket.id == ticket.id).values(search_tokens=" ".join(segment(text))))
        with database.read() as session:
            assert repository.list_tickets(session, TicketQuery(q="crash"))[0] == []
        audit.chain_all(database)  # downgrading past 0014 wants every audit entry chained
        migrate.downgrade(database.engine, "0009")
        migrate.upgrade(database.engine)
        with database.read() as session:
            found, _ = repository.list_tickets(session, TicketQuery(q="crash"))
            assert [t.number for t in found] == [ticket.number]
            assert [t.number for t in repository.list_tickets(session, TicketQuery(q="crashes"))[0]] == [ticket.number]
    finally:
        database.dispose()
