"""The intake policy as a table (tickets/intake_policy.py): each kind of caller × each thing it
might set → taken or refused, on the one entry point `intake.receive`; then one test per
adapter that it goes through that entry point (the web form and the API refuse alike)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from helpers import counts, feedback
from huiying.config import Settings
from huiying.db import Database
from huiying.errors import Forbidden, InvalidInput, RateLimited
from huiying.kit.actor import Actor, ActorType
from huiying.kit.roles import Role
from huiying.portal.user_token import UserClaim
from huiying.tickets import intake
from huiying.tickets.enums import Channel
from huiying.tickets.intake_policy import IntakeCaller
from huiying.tickets.schemas import FeedbackIn
from huiying.web import i18n


class CountingLimit:
    """The public limit at the boundary: counts who was checked, refuses when told to."""

    def __init__(self, *, refuse: bool = False) -> None:
        self.checked: list[tuple[str | None, str | None]] = []
        self.refuse = refuse

    def check(self, *, ip: str | None, user_id: str | None) -> None:
        self.checked.append((ip, user_id))
        if self.refuse:
            raise RateLimited("too many", retry_after=30)


def _staff(role: Role, scopes: frozenset[str] | None = None) -> Actor:
    return Actor(type=ActorType.STAFF, name=f"{role}@example.com", role=role, scopes=scopes, ip="10.1.1.1")


CALLERS: dict[str, IntakeCaller] = {
    "visitor": IntakeCaller.visitor(user_id="u1", ip="10.0.0.1"),
    "visitor+vip claim": IntakeCaller.visitor(user_id="u1", ip="10.0.0.1", claim=UserClaim("u1", vip=True)),
    "visitor+plain claim": IntakeCaller.visitor(user_id="u1", ip="10.0.0.1", claim=UserClaim("u1", vip=False)),
    "staff": IntakeCaller.of_actor(_staff(Role.AGENT)),
    "staff without ticket:create": IntakeCaller.of_actor(_staff(Role.AUDITOR)),
    "api key ticket:create": IntakeCaller.of_actor(_staff(Role.AGENT, frozenset({"ticket:create"}))),
    "api key ticket:read": IntakeCaller.of_actor(_staff(Role.AGENT, frozenset({"ticket:read"}))),
    "email adapter": IntakeCaller.channel_adapter(Channel.EMAIL),
    "system": IntakeCaller.system(),
}

# What is handed in, on top of a plain submission; without a channel, the caller's own (email
# for the email adapter, app for everyone else), so that row tests only its field.
FIELDS: dict[str, dict[str, Any]] = {
    "plain app": {"channel": "app"},
    "web": {"channel": "web"},
    "email": {"channel": "email"},
    "hotline": {"channel": "hotline"},
    "priority": {"priority": "urgent"},
    "tags": {"tags": ["回访"]},
    "vip": {"vip": True},
}

# Per caller: the fields it is refused (everything else is taken).
REFUSED: dict[str, set[str]] = {
    "visitor": {"email", "hotline", "priority", "tags", "vip"},
    "visitor+vip claim": {"email", "hotline", "priority", "tags"},
    "visitor+plain claim": {"email", "hotline", "priority", "tags", "vip"},
    "staff": set(),
    "staff without ticket:create": {"email", "hotline", "priority", "tags", "vip"},
    "api key ticket:create": set(),
    "api key ticket:read": {"email", "hotline", "priority", "tags", "vip"},
    "email adapter": {"plain app", "web", "hotline", "priority", "vip"},
    "system": set(),
}
LIMITED = {"visitor", "visitor+vip claim", "visitor+plain claim", "staff without ticket:create", "api key ticket:read"}

TABLE = [(caller, field, field not in REFUSED[caller]) for caller in CALLERS for field in FIELDS]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("caller_name", "field", "taken"), TABLE, ids=[f"{c}-{f}" for c, f, _ in TABLE])
def test_the_policy_table(db: Database, settings: Settings, caller_name: str, field: str, taken: bool) -> None:
    caller = CALLERS[caller_name]
    channel = (caller.channel or Channel.APP).value
    fields = {"channel": channel, **FIELDS[field]}
    submission = FeedbackIn.model_validate({"description": "充值失败但扣了钱", "user_id": "u1", **fields})
    limit = CountingLimit()
    with db.write() as session:
        if not taken:
            with pytest.raises(Forbidden) as refused:
                intake.receive(session, submission, caller=caller, settings=settings, limit=limit)
            assert refused.value.code == "forbidden"
            assert refused.value.details["field"] in {"channel", "priority", "tags", "vip"}
            assert limit.checked == []  # a refused submission spends no one's limit
            return
        ticket = intake.receive(session, submission, caller=caller, settings=settings, limit=limit).ticket
        assert ticket.channel == fields["channel"]
        assert ticket.vip == (field == "vip" or caller_name == "visitor+vip claim")
    assert limit.checked == ([(caller.actor.ip, "u1")] if caller_name in LIMITED else [])


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_visitor_over_the_limit_is_refused_and_nothing_is_stored(db: Database, settings: Settings) -> None:
    stored: list[str] = []

    def files(session: Any) -> list[str]:
        stored.append("called")
        return []

    with pytest.raises(RateLimited), db.write() as session:
        intake.receive(
            session,
            FeedbackIn(description="又闪退了", channel=Channel.WEB),
            caller=CALLERS["visitor"],
            settings=settings,
            limit=CountingLimit(refuse=True),
            files=files,
        )
    assert counts(db) == (0, 0)
    assert stored == []  # uploads are stored only once the submission is admitted


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_empty_text_is_refused_for_everyone(db: Database, settings: Settings) -> None:
    blank = FeedbackIn.model_construct(**{**FeedbackIn(description="x").model_dump(), "description": " \u200b "})
    with db.write() as session:
        for caller in CALLERS.values():
            with pytest.raises(InvalidInput):
                intake.receive(session, blank, caller=caller, settings=settings, limit=CountingLimit())


def _form_post(client: TestClient, **fields: str) -> Any:
    form = client.get("/feedback")
    token = form.text.split('name="csrf_token" value="')[1].split('"')[0]
    data = {"description": "会员权益没有到账", "csrf_token": token, **fields}
    return client.post("/feedback", data=data, follow_redirects=False)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_the_web_form_and_the_api_refuse_a_staff_channel_alike(app_client: TestClient, db: Database) -> None:
    api = app_client.post("/api/v1/feedback", json=feedback(channel="hotline"))
    assert api.status_code == 403
    assert api.json()["error"]["code"] == "forbidden"
    assert api.json()["error"]["details"] == {"field": "channel"}
    page = _form_post(app_client, channel="hotline")
    assert page.status_code == 403
    assert i18n.translator("zh")("err.forbidden", field="channel") in page.text  # the same refusal, in words
    assert counts(db) == (0, 0)
    assert _form_post(app_client, channel="app").status_code == 303


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_visitor_cannot_take_over_another_tickets_source_ref(app_client: TestClient, db: Database) -> None:
    """An anonymous caller who knows (or guesses) another submission's `source_ref` must not get
    that ticket's signed portal link back by sending other feedback under it."""
    first = app_client.post("/api/v1/feedback", json=feedback(source_ref="app-feedback-1001"))
    assert first.status_code == 201
    other = app_client.post(
        "/api/v1/feedback", json=feedback(source_ref="app-feedback-1001", user_id="u-else", description="别的事")
    )
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "source_ref_reused"
    assert first.json()["portal_url"] not in other.text
    assert counts(db)[0] == 1
    # The same submission again (an app retrying) is still the same ticket.
    again = app_client.post("/api/v1/feedback", json=feedback(source_ref="app-feedback-1001"))
    assert again.json()["number"] == first.json()["number"]
