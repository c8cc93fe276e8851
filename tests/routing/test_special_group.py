"""special_group at intake and on the ticket: only a trusted caller sets it (the anonymous caller
is refused, as for vip), staff set and clear it by PATCH (one field_changed event each), the
ticket JSON and list show it, and routing's shipped rule sends it to the VIP lane."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from conftest import StaffLogin
from helpers import feedback, submit
from huiying.db import Database
from huiying.errors import Forbidden
from huiying.kit.actor import Actor, ActorType
from huiying.kit.roles import Role
from huiying.tickets.enums import Channel
from huiying.tickets.intake_policy import IntakeCaller, admit
from huiying.tickets.schemas import FeedbackIn
from huiying.web.wording import Wording

_STAFF = Actor(type=ActorType.STAFF, name="a@example.com", role=Role.AGENT, ip="10.1.1.1")
_KEY = Actor(type=ActorType.STAFF, name="k", role=Role.AGENT, scopes=frozenset({"ticket:create"}), ip="10.1.1.2")


@pytest.mark.parametrize(
    ("caller", "taken"),
    [
        (IntakeCaller.visitor(user_id="u1", ip="10.0.0.1"), False),
        (IntakeCaller.of_actor(Actor(type=ActorType.USER, name="anonymous")), False),
        (IntakeCaller.channel_adapter(Channel.EMAIL), False),
        (IntakeCaller.of_actor(_STAFF), True),
        (IntakeCaller.of_actor(_KEY), True),
        (IntakeCaller.system(), True),
    ],
)
def test_who_may_set_special_group(caller: IntakeCaller, taken: bool) -> None:
    channel = "email" if caller.channel else "app"
    submission = FeedbackIn.model_validate(
        {"description": "看不清按钮", "channel": channel, "special_group": "elderly"}
    )
    if taken:
        assert admit(caller, submission).special_group == "elderly"
    else:
        with pytest.raises(Forbidden) as refused:
            admit(caller, submission)
        assert refused.value.details == {"field": "special_group"}


def test_unknown_groups_are_refused() -> None:
    with pytest.raises(ValueError):
        FeedbackIn.model_validate({"description": "x", "special_group": "vipish"})


def test_special_group_through_the_api(app_client: TestClient, db: Database, admin: StaffLogin) -> None:
    anonymous = app_client.post("/api/v1/feedback", json=feedback(special_group="accessibility"))
    assert anonymous.status_code == 403 and "special_group" in anonymous.text
    given = submit(app_client, feedback(special_group="accessibility"), Authorization=admin.headers["Authorization"])
    url = f"/api/v1/tickets/{given['number']}"
    shown = app_client.get(url, headers=admin.headers).json()
    assert shown["special_group"] == "accessibility"
    assert shown["team"] == "vip-lane"  # the shipped "special groups first" rule
    listed = app_client.get("/api/v1/tickets", headers=admin.headers).json()["items"]
    assert [t["special_group"] for t in listed if t["number"] == given["number"]] == ["accessibility"]

    plain = submit(app_client, feedback())
    purl = f"/api/v1/tickets/{plain['number']}"
    assert app_client.patch(purl, json={"special_group": "minor"}, headers=admin.headers).status_code == 200
    assert app_client.patch(purl, json={"special_group": "nobody"}, headers=admin.headers).status_code == 422
    assert app_client.patch(purl, json={"special_group": None}, headers=admin.headers).status_code == 200
    assert app_client.get(purl, headers=admin.headers).json()["special_group"] is None
    events = app_client.get(f"{purl}/timeline", headers=admin.headers).json()["events"]
    changed = [(e["old"], e["new"]) for e in events if e["field"] == "special_group"]
    assert changed == [(None, "minor"), ("minor", None)], changed


class _Event:
    def __init__(self, action: str, data: dict[str, object] | None = None) -> None:
        self.action, self.data, self.field, self.old, self.new = action, data, None, None, None


def test_the_timeline_says_it_in_words() -> None:
    zh, en = Wording("zh"), Wording("en")
    assert (zh.value("special_group", "accessibility"), en.value("special_group", "minor")) == ("残障用户", "minors")
    routed = _Event("routed", {"rules": [{"id": "a", "zh": "规则「甲」：分派到 乙", "en": "rule “A”: routed to B"}]})
    assert zh.event(routed) == "按分派规则处理：规则「甲」：分派到 乙"
    assert en.event(routed) == "applied the routing rules: rule “A”: routed to B"
    assert en.event(_Event("routed", {"rules": []})) == "applied the routing rules"
