"""Concurrent writers of one ticket, through a live HTTP server, on both back ends.

Every change to a ticket serialises on that ticket, so whatever 16 clients do at once has the
outcome of some one-after-the-other order of the same requests: one event per real transition,
each event's "old" is the previous event's "new", counters count every change exactly once.
"""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from conftest import PASSWORD, LiveServer
from helpers import feedback
from huiying.accounts import service as accounts
from huiying.channels.delivery import deliver_message
from huiying.config import Settings
from huiying.kit.roles import Role

CLIENTS = 16
# Fields whose whole history the timeline tells, and how the ticket JSON shows each one.
FIELDS = ("status", "priority", "tags", "title", "category", "subcategory", "needs_refinement", "team")
CATEGORIES = ("technical", "content", "commercial", "suggestion", "other")
STATUSES = ("open", "pending", "resolved", "closed")
PRIORITIES = ("urgent", "high", "medium", "low")
TAGS = ("t1", "t2", "t3", "t4")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The portal's per-IP limit would refuse 16 clients on one loopback address."""
    return settings.model_copy(update={"rate_limit_portal": "0"})


def _race(server: LiveServer, calls: list[Callable[[httpx.Client], Any]]) -> list[Any]:
    """Run every call from its own client (its own connection) at the same moment."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[httpx.Client], Any]) -> Any:
        with httpx.Client(base_url=server.base_url, headers=server.admin_headers, timeout=120) as client:
            barrier.wait()
            return call(client)

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def _new_ticket(server: LiveServer, *, status: str | None = None) -> dict[str, Any]:
    """A ticket made through the public intake (moved to `status` if given)."""
    with httpx.Client(base_url=server.base_url, headers=server.admin_headers, timeout=60) as client:
        body = feedback(category=None, subcategory=None)
        created = client.post("/api/v1/feedback", json=body)
        assert created.status_code == 201, created.text
        number = created.json()["number"]
        if status:
            moved = client.post(f"/api/v1/tickets/{number}/status", json={"status": status})
            assert moved.status_code == 200, moved.text
        ticket = client.get(f"/api/v1/tickets/{number}").json()
        return {**ticket, "portal_path": urlsplit(created.json()["portal_url"]).path}


def _ticket(server: LiveServer, number: str) -> dict[str, Any]:
    answer = httpx.get(f"{server.base_url}/api/v1/tickets/{number}", headers=server.admin_headers)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def _events(server: LiveServer, number: str) -> list[dict[str, Any]]:
    answer = httpx.get(f"{server.base_url}/api/v1/tickets/{number}/timeline", headers=server.admin_headers)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["events"])


def _as_text(value: Any) -> str | None:
    """A ticket JSON value the way the event log writes it."""
    if isinstance(value, list):
        return ",".join(sorted(value))
    if isinstance(value, bool):
        return "true" if value else "false"
    return None if value is None else str(value)


def _status_events(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(e["old"], e["new"]) for e in events if e["action"] == "status_changed"]


def test_sixteen_concurrent_resolves_record_one_transition(live_server: LiveServer) -> None:
    ticket = _new_ticket(live_server, status="open")
    number = ticket["number"]

    answers = _race(
        live_server,
        [lambda c: c.post(f"/api/v1/tickets/{number}/status", json={"status": "resolved"})] * CLIENTS,
    )

    # The first resolves it; for the others it is already resolved, which is what they asked.
    assert [a.status_code for a in answers] == [200] * CLIENTS
    assert all(a.json()["status"] == "resolved" for a in answers)
    assert _status_events(_events(live_server, number)) == [("new", "open"), ("open", "resolved")]


def _portal_reopen(path: str, reason: str) -> Callable[[httpx.Client], httpx.Response]:
    """The user's 'not solved' button on the portal page of their ticket."""

    def call(client: httpx.Client) -> httpx.Response:
        client.headers.pop("Authorization", None)
        page = client.get(path)
        assert page.status_code == 200, page.text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token is not None
        return client.post(f"{path}/reopen", data={"reason": reason, "csrf_token": token.group(1)})

    return call


def test_sixteen_concurrent_reopens_count_one_reopen(live_server: LiveServer) -> None:
    ticket = _new_ticket(live_server, status="resolved")
    number, path = ticket["number"], ticket["portal_path"]
    staff: list[Callable[[httpx.Client], httpx.Response]] = [
        lambda c: c.post(f"/api/v1/tickets/{number}/status", json={"status": "open"})
    ] * (CLIENTS // 2)
    users = [_portal_reopen(path, f"还是不行 {i}") for i in range(CLIENTS // 2)]

    answers = _race(live_server, [*staff, *users])

    assert all(a.status_code < 500 for a in answers), [a.text for a in answers if a.status_code >= 500]
    reopens = [e for e in _events(live_server, number) if e["action"] == "status_changed" and e["new"] == "open"]
    assert [(e["old"], e["new"]) for e in reopens] == [("resolved", "open")]
    assert _ticket(live_server, number)["reopen_count"] == 1
    # A user whose reopen came second is told the ticket is open again; only a reopen that
    # happened adds the user's reason to the conversation.
    user_won = reopens[0]["actor_type"] == "user"
    reopened = [a for a in answers[CLIENTS // 2 :] if "notice=reopened" in a.headers.get("location", "")]
    assert len(reopened) == (1 if user_won else 0)
    messages = httpx.get(
        f"{live_server.base_url}/api/v1/tickets/{number}/messages", headers=live_server.admin_headers
    ).json()
    assert len([m for m in messages if m["kind"] == "user" and m["body"].startswith("还是不行")]) == len(reopened)


def _random_change(rng: random.Random, number: str, index: int) -> Callable[[httpx.Client], httpx.Response]:
    """One of the things agents do to a ticket: a status move, a PATCH, a public reply."""
    kind = rng.choice(("status", "priority", "tags", "title", "category", "mixed", "reply"))
    url = f"/api/v1/tickets/{number}"
    if kind == "status":
        body: dict[str, Any] = {"status": rng.choice(STATUSES)}
        return lambda c: c.post(f"{url}/status", json=body)
    if kind == "reply":
        return lambda c: c.post(f"{url}/replies", json={"body": f"回复 {index}"})
    patch: dict[str, Any] = {
        "priority": {"priority": rng.choice(PRIORITIES)},
        "tags": {"tags": rng.sample(TAGS, rng.randint(0, len(TAGS)))},
        "title": {"title": f"标题 {index}"},
        "category": {"category": rng.choice(CATEGORIES)},
        "mixed": {"priority": rng.choice(PRIORITIES), "title": f"标题 {index}", "category": rng.choice(CATEGORIES)},
    }[kind]
    return lambda c: c.patch(url, json=patch)


def test_random_concurrent_changes_leave_an_unbroken_history(live_server: LiveServer) -> None:
    ticket = _new_ticket(live_server)
    number = ticket["number"]
    before = {e["id"] for e in _events(live_server, number)}
    rng = random.Random(16)
    rounds = 4
    changes = [_random_change(rng, number, i) for i in range(CLIENTS * rounds)]

    def client_work(offset: int) -> Callable[[httpx.Client], list[httpx.Response]]:
        return lambda c: [changes[i](c) for i in range(offset, len(changes), CLIENTS)]

    answers = [a for chunk in _race(live_server, [client_work(o) for o in range(CLIENTS)]) for a in chunk]

    # Refused moves are the status flow's 409; nothing else fails.
    assert all(a.status_code in (200, 201, 409) for a in answers), [a.text for a in answers if a.status_code >= 400]
    events = [e for e in _events(live_server, number) if e["id"] not in before]
    final = _ticket(live_server, number)
    for name in FIELDS:
        chain = [e for e in events if e["field"] == name and e["action"] in ("field_changed", "status_changed")]
        values = [_as_text(ticket[name])] + [e["new"] for e in chain]
        olds = [e["old"] for e in chain]
        assert olds == values[:-1], f"{name}: an event's old value is not the previous event's new one"
        assert values[-1] == _as_text(final[name]), f"{name}: the ticket is not what its last event says"
    statuses = _status_events(events)
    assert final["reopen_count"] == sum(1 for old, new in statuses if new == "open" and old in ("resolved", "closed"))
    replies = [a for a in answers if a.request.url.path.endswith("/replies") and a.status_code == 201]
    assert len([e for e in events if e["action"] == "reply_added"]) == len(replies)


def test_concurrent_merges_both_ways_merge_once_without_deadlock(live_server: LiveServer) -> None:
    first, second = _new_ticket(live_server, status="open"), _new_ticket(live_server, status="open")
    a, b = first["number"], second["number"]
    calls: list[Callable[[httpx.Client], httpx.Response]] = [
        (lambda c: c.post(f"/api/v1/tickets/{a}/merge", json={"into": b}))
        if i % 2
        else (lambda c: c.post(f"/api/v1/tickets/{b}/merge", json={"into": a}))
        for i in range(CLIENTS)
    ]

    answers = _race(live_server, calls)

    assert sorted(a.status_code for a in answers) == [200] + [409] * (CLIENTS - 1), [a.text for a in answers]
    # A ticket's timeline includes the events of the tickets merged into it: count each once.
    merged = {e["id"] for n in (a, b) for e in _events(live_server, n) if e["action"] == "merged_into"}
    assert len(merged) == 1
    statuses = sorted(_ticket(live_server, n)["status"] for n in (a, b))
    assert statuses == ["merged", "open"]


def _workspace_login(server: LiveServer) -> tuple[httpx.Cookies, str]:
    """The cookies and form token of a supervisor's workspace session."""
    email = "web-supervisor@example.com"
    with server.db.write() as session:
        accounts.create_user(session, email=email, password=PASSWORD, role=Role.SUPERVISOR)
    with httpx.Client(base_url=server.base_url, timeout=60) as client:
        form = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
        assert form is not None
        answer = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": form.group(1)})
        assert answer.status_code == 303, answer.text
        page = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/tickets").text)
        assert page is not None
        return client.cookies, page.group(1)


def test_concurrent_workspace_forms_and_bulk_actions_change_once(live_server: LiveServer) -> None:
    ticket = _new_ticket(live_server, status="open")
    number = ticket["number"]
    cookies, csrf = _workspace_login(live_server)

    def web(path: str, data: dict[str, Any]) -> Callable[[httpx.Client], httpx.Response]:
        def call(client: httpx.Client) -> httpx.Response:
            client.headers.pop("Authorization", None)
            client.cookies = cookies
            return client.post(path, data={**data, "csrf_token": csrf})

        return call

    calls = [
        web(f"/tickets/{number}/status", {"status": "resolved"}),
        web("/tickets-bulk", {"action": "tag", "value": "web-tag", "numbers": number}),
        web("/tickets-bulk", {"action": "status", "value": "resolved", "numbers": number}),
        web(f"/tickets/{number}/confirm-category", {}),
    ] * (CLIENTS // 4)

    answers = _race(live_server, calls)

    assert [a.status_code for a in answers] == [303] * CLIENTS, [a.text for a in answers if a.status_code != 303]
    events = _events(live_server, number)
    assert _status_events(events) == [("new", "open"), ("open", "resolved")]
    tags = [(e["old"], e["new"]) for e in events if e["field"] == "tags"]
    assert tags == [("", "web-tag")]
    final = _ticket(live_server, number)
    assert (final["status"], final["tags"]) == ("resolved", ["web-tag"])


def test_jobs_recording_events_beside_ticket_writers_never_deadlock(live_server: LiveServer) -> None:
    """Lock order: a ticket, then the audit-log head (at commit). A delivery job locks no ticket
    but writes its event at commit, after taking the head; the ticket lock must not stop it."""
    ticket = _new_ticket(live_server, status="open")
    number = ticket["number"]
    with httpx.Client(base_url=live_server.base_url, headers=live_server.admin_headers, timeout=60) as client:
        replies = [client.post(f"/api/v1/tickets/{number}/replies", json={"body": f"答复 {i}"}) for i in range(16)]
    assert all(r.status_code == 201 for r in replies)
    message_ids = [r.json()["id"] for r in replies]
    rng = random.Random(2)
    writers = [_random_change(rng, number, i) for i in range(CLIENTS // 2)]

    def deliver(ids: list[int]) -> Callable[[httpx.Client], list[None]]:
        return lambda _client: [deliver_message(live_server.db, {"message_id": i}) for i in ids]

    jobs = [deliver(message_ids[i :: CLIENTS // 2]) for i in range(CLIENTS // 2)]

    answers = _race(live_server, [*writers, *jobs])

    assert all(a.status_code in (200, 201, 409) for a in answers[: len(writers)])
    delivered = [e for e in _events(live_server, number) if e["action"] == "reply_delivered"]
    assert len(delivered) == len(message_ids)
