"""The /live event stream follows the viewer's session and rights on every poll.

Read through a real server (uvicorn) with httpx streaming. The read timeout is only a safety net
against a stream that never ends; what is asserted is which events arrive and that it ends.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator

import httpx
import pytest

from conftest import PASSWORD, LiveServer
from huiying.accounts import service as accounts
from huiying.accounts import teams
from huiying.kit.actor import SYSTEM
from huiying.kit.roles import Role
from huiying.web import live, sessions


@pytest.fixture(autouse=True)
def fast_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(live, "POLL_SECONDS", 0.05)


def _browser(server: LiveServer, *, email: str, team_slugs: list[str]) -> httpx.Client:
    """A logged-in web session of a new agent."""
    with server.db.write() as session:
        accounts.create_user(session, email=email, password=PASSWORD, role=Role.AGENT, team_slugs=team_slugs)
    client = httpx.Client(base_url=server.base_url, timeout=httpx.Timeout(10.0, read=5.0))
    form = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token is not None
    answer = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token.group(1)})
    assert answer.status_code == 303 and client.cookies.get(sessions.COOKIE)
    return client


def _events(lines: Iterator[str]) -> Iterator[dict[str, object]]:
    """The `ticket` events of an SSE stream, until the server ends it."""
    kind = None
    for line in lines:
        if line.startswith("event: "):
            kind = line.removeprefix("event: ")
        elif line.startswith("data: ") and kind == "ticket":
            yield json.loads(line.removeprefix("data: "))
        elif line == "":
            kind = None


def _new_ticket(server: LiveServer) -> str:
    answer = httpx.post(f"{server.base_url}/api/v1/feedback", json={"description": f"直播卡顿 {uuid.uuid4()}"})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["number"])


def _until(events: Iterator[dict[str, object]], number: str) -> list[dict[str, object]]:
    """Events up to and including the first one of ticket `number`."""
    seen = []
    for event in events:
        seen.append(event)
        if event["number"] == number:
            return seen
    raise AssertionError(f"the stream ended before an event of {number}: {seen}")


def test_the_stream_ends_at_logout_and_sends_nothing_after_it(live_server: LiveServer) -> None:
    browser = _browser(live_server, email="live.agent@example.com", team_slugs=[])
    with browser.stream("GET", "/live") as stream:
        assert stream.status_code == 200
        events = _events(stream.iter_lines())
        before = _new_ticket(live_server)
        assert _until(events, before)[-1]["action"] == "created"

        with live_server.db.read() as session:
            row = sessions.find(session, browser.cookies.get(sessions.COOKIE))
            assert row is not None
            csrf = row.csrf_token
        assert browser.post("/logout", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
        after = _new_ticket(live_server)

        rest = list(events)  # returns only when the server ends the stream
    assert [e for e in rest if e["number"] == after] == []


def test_a_member_removed_from_a_team_stops_getting_its_events(live_server: LiveServer) -> None:
    browser = _browser(live_server, email="live.member@example.com", team_slugs=["tech-support"])
    admin = live_server.admin_headers
    theirs = _new_ticket(live_server)
    routed = httpx.patch(
        f"{live_server.base_url}/api/v1/tickets/{theirs}", json={"team": "tech-support"}, headers=admin
    )
    assert routed.status_code == 200
    with browser.stream("GET", "/live") as stream:
        events = _events(stream.iter_lines())
        httpx.patch(f"{live_server.base_url}/api/v1/tickets/{theirs}", json={"title": "still visible"}, headers=admin)
        assert _until(events, theirs)[-1]["number"] == theirs

        with live_server.db.write() as session:
            user = accounts.user_by_email(session, "live.member@example.com")
            teams.set_membership(session, teams.team_by_slug(session, "tech-support"), user, member=False, actor=SYSTEM)
        httpx.patch(f"{live_server.base_url}/api/v1/tickets/{theirs}", json={"title": "not any more"}, headers=admin)
        unrouted = _new_ticket(live_server)  # still visible: tickets of no team

        seen = _until(events, unrouted)
    assert [e for e in seen if e["number"] == theirs] == []


def test_deactivating_the_viewer_ends_the_stream(live_server: LiveServer) -> None:
    browser = _browser(live_server, email="live.leaver@example.com", team_slugs=[])
    with browser.stream("GET", "/live") as stream:
        events = _events(stream.iter_lines())
        _until(events, _new_ticket(live_server))
        with live_server.db.write() as session:
            user = accounts.user_by_email(session, "live.leaver@example.com")
            accounts.update_user(session, user, active=False, actor=SYSTEM)
        after = _new_ticket(live_server)
        rest = list(events)
    assert [e for e in rest if e["number"] == after] == []
