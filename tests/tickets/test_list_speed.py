"""The ticket list reads plain rows and writes plain data (repository.list_page,
present.list_item): its answer must stay the one TicketOut gives, and its statements must not
grow with the page."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event

from conftest import StaffLogin, login
from helpers import feedback, submit
from huiying.db import Database
from huiying.kit.roles import Role
from huiying.tickets import present, repository
from huiying.tickets.enums import Status
from huiying.tickets.repository import TicketQuery
from huiying.tickets.schemas import TicketList


@contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def _varied_tickets(client: TestClient, admin: StaffLogin, db: Database) -> list[str]:
    """Tickets with everything a list shows: tags, a team and an assignee, personal data in the
    text, links, a merge target, and plain ones."""
    login(client, db, email="agent@example.com", role=Role.AGENT, teams=["finance"])
    numbers = []
    for index in range(6):
        body = feedback(
            title=f"第{index}次 支付失败 call 13812345678" if index % 2 else "支付失败",
            description=f"邮箱 someone{index}@example.com，身份证 11010519491231002X，订单 DD2026{index}",
            tags=["退款", "a-tag"] if index % 3 == 0 else [],
            vip=index == 1,
        )
        numbers.append(submit(client, body, **admin.headers)["number"])
    patch = {"team": "finance", "assignee": "agent@example.com", "tags": ["zz", "vip跟进", "退款"]}
    assert client.patch(f"/api/v1/tickets/{numbers[2]}", json=patch, headers=admin.headers).status_code == 200
    merged = client.post(f"/api/v1/tickets/{numbers[4]}/merge", json={"into": numbers[0]}, headers=admin.headers)
    assert merged.status_code == 200, merged.text
    return numbers


def _expected(db: Database, query: TicketQuery, *, cursor: str | None = None, limit: int = 50) -> bytes:
    """The answer as it was built before: entities through present.ticket_out into TicketList."""
    with db.read() as session:
        tickets, next_cursor = repository.list_tickets(session, query, cursor=cursor, limit=limit)
        page = TicketList(items=[present.ticket_out(t) for t in tickets], next_cursor=next_cursor)
        return page.model_dump_json().encode()


def test_list_answer_is_byte_for_byte_what_ticket_out_gives(
    app_client: TestClient, admin: StaffLogin, db: Database
) -> None:
    numbers = _varied_tickets(app_client, admin, db)
    answer = app_client.get("/api/v1/tickets?status=new,merged&limit=50", headers=admin.headers)
    assert answer.status_code == 200, answer.text
    query = TicketQuery(status=[Status.NEW, Status.MERGED])
    assert answer.content == _expected(db, query)

    items = {item["number"]: item for item in answer.json()["items"]}
    assert set(items) == set(numbers)
    assert items[numbers[2]]["tags"] == sorted(["zz", "vip跟进", "退款"])
    assert (items[numbers[2]]["team"], items[numbers[2]]["assignee"]) == ("finance", "agent@example.com")
    assert items[numbers[4]]["merged_into"] == numbers[0]
    assert "13812345678" not in answer.text and "someone1@example.com" not in answer.text  # masked


def test_list_pages_and_their_cursors_are_unchanged(app_client: TestClient, admin: StaffLogin, db: Database) -> None:
    _varied_tickets(app_client, admin, db)
    for sort in ("-created", "created", "priority", "due"):
        cursor = None
        for _ in range(4):
            params: dict[str, Any] = {"limit": 2, "sort": sort}
            if cursor:
                params["cursor"] = cursor
            answer = app_client.get("/api/v1/tickets", params=params, headers=admin.headers)
            assert answer.status_code == 200, answer.text
            assert answer.content == _expected(db, TicketQuery(sort=sort), cursor=cursor, limit=2), sort
            cursor = answer.json()["next_cursor"]
            if cursor is None:
                break


def test_list_statements_do_not_grow_with_the_page(app_client: TestClient, admin: StaffLogin, db: Database) -> None:
    _varied_tickets(app_client, admin, db)
    for _ in range(14):  # more tickets than the larger page, some tagged, one with a team
        submit(app_client, feedback(tags=["x"]), **admin.headers)
    counts = {}
    for limit in (1, 5, 20):
        app_client.get(f"/api/v1/tickets?limit={limit}", headers=admin.headers)  # warm: auth cache
        with statements(db) as seen:
            answer = app_client.get(f"/api/v1/tickets?limit={limit}", headers=admin.headers)
        assert len(answer.json()["items"]) == limit
        counts[limit] = len([s for s in seen if s.lstrip().upper().startswith("SELECT")])
    assert counts[1] == counts[5] == counts[20], counts
    # The page with its tags, team, assignee and merge target: one statement on PostgreSQL, two
    # on SQLite (tags apart); plus at most the token check.
    assert counts[20] <= (2 if db.is_sqlite else 1) + 1, counts
