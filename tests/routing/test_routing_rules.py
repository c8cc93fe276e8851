"""routing.rules: validation and evaluation as tables of cases (pure, no database)."""

from __future__ import annotations

from datetime import time
from typing import Any

import pytest

from huiying.routing.defaults import default_rule_dicts
from huiying.routing.rules import Facts, RoutingRuleError, evaluate, facts_text, in_range, load_rules, validate_rule

DEFAULTS = load_rules(default_rule_dicts())


def rule(rule_id: str, when: dict[str, Any], then: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"id": rule_id, "name": rule_id, "when": when, "then": then, **extra}


def facts(**values: Any) -> Facts:
    title = values.pop("title", "")
    return Facts(text=facts_text(title, values.pop("description", "")), **values)


@pytest.mark.parametrize(
    ("given", "team", "extra"),
    [
        (dict(category="technical", subcategory="stream-lag"), "tech-network", {}),
        (dict(category="technical", subcategory="crash"), "tech-client", {}),
        (dict(category="technical", subcategory="login"), "tech-server", {}),
        (dict(category="technical", subcategory="payment-failure"), "tech-server", {}),
        (dict(category="technical", title="直播时网络老是断开"), "tech-network", {}),
        (dict(category="technical", subcategory="account-security"), "security", {}),
        (dict(category="technical"), "tech-support", {}),
        (dict(category="content", subcategory="harassment"), "content-review", {}),
        (dict(category="content", subcategory="privacy-leak"), "security", {}),
        (dict(category="commercial", subcategory="refund"), "finance", {}),
        (dict(category="commercial", subcategory="recharge"), "finance", {}),
        (dict(category="commercial", subcategory="delivery"), "merchant", {}),
        (dict(category="suggestion", subcategory="feature-request"), "product-suggestions", {}),
        (dict(category="suggestion", subcategory="question"), "general", {}),
        (dict(category="other"), None, {}),
        (dict(category=None), None, {}),
        # The VIP lane wins the team over the category; the SLA's own matching picks the policy.
        (dict(category="technical", subcategory="crash", vip=True), "vip-lane", {"sla_policy": None, "tags": ("vip",)}),
        (dict(category="content", special_group="accessibility"), "vip-lane", {"sla_policy": None}),
        # Urgent work asks for a senior agent whatever the team.
        (
            dict(category="technical", subcategory="login", priority="urgent"),
            "tech-server",
            {"assignment_mode": "least_loaded", "assignee_role": "senior", "tags": ()},
        ),
        (dict(category="suggestion", priority="low"), "general", {"assignment_mode": None, "tags": ()}),
    ],
)
def test_default_rules_route_as_the_spec_says(given: dict[str, Any], team: str | None, extra: dict[str, Any]) -> None:
    outcome = evaluate(DEFAULTS, facts(**given))
    assert outcome.team == team
    for name, value in extra.items():
        assert getattr(outcome, name) == value


def test_first_match_per_action_wins_tags_are_the_union_and_order_is_kept() -> None:
    rules = load_rules(
        [
            rule("a", {"priority": ["urgent"]}, {"priority": "high", "tags": ["x"]}),
            rule("b", {}, {"priority": "low", "team": "general", "tags": ["x", "y"], "notify": ["security"]}),
            rule("c", {}, {"team": "finance", "notify": ["security", "general"]}),
        ]
    )
    outcome = evaluate(rules, facts(priority="urgent"))
    assert [f.rule_id for f in outcome.fired] == ["a", "b", "c"]
    assert (outcome.priority, outcome.team) == ("high", "general")
    assert outcome.tags == ("x", "y")
    assert outcome.notify == ("security", "general")
    assert outcome.fired[1].applied == {"team": "general", "tags": ["y"], "notify": ["security"]}
    assert outcome.fired[2].applied == {"notify": ["general"]}  # its team lost to b's
    # Rules read the facts as given: a rule setting priority does not feed the next one's condition.
    assert evaluate(rules, facts(priority="medium")).priority == "low"


def test_stop_ends_evaluation_and_disabled_rules_are_skipped() -> None:
    rules = load_rules(
        [
            rule("off", {}, {"team": "security"}, enabled=False),
            rule("vip", {"vip": True}, {"team": "vip-lane"}, stop=True),
            rule("all", {}, {"tags": ["seen"]}),
        ]
    )
    stopped = evaluate(rules, facts(vip=True))
    assert ([f.rule_id for f in stopped.fired], stopped.stopped_by, stopped.tags) == (["vip"], "vip", ())
    plain = evaluate(rules, facts(vip=False))
    assert ([f.rule_id for f in plain.fired], plain.team, plain.stopped_by) == (["all"], None, None)


@pytest.mark.parametrize(
    ("when", "given", "fires"),
    [
        ({"channel": ["email", "phone"]}, dict(channel="email"), True),
        ({"channel": ["email", "phone"]}, dict(channel="app"), False),
        ({"language": ["en"]}, dict(language="en"), True),
        ({"language": ["en"]}, dict(language=None), False),
        ({"keywords": ["闪退"]}, dict(title="一打开就闪退了"), True),
        ({"keywords": ["ＶＩＰ会员"]}, dict(description="我的vip会员没了"), True),  # full width, case
        ({"keywords": ["refund"]}, dict(title="REFUND please"), True),
        ({"keywords": ["闪退", "卡顿"]}, dict(title="无法登录"), False),
        ({"vip": False}, dict(vip=False), True),
        ({"vip": False}, dict(vip=True), False),
        ({"special_group": ["accessibility"]}, dict(special_group=None), False),
        ({"user_id_prefix": ["m_", "shop"]}, dict(user_id="shop123"), True),
        ({"user_id_prefix": ["m_"]}, dict(user_id=None), False),
        ({"fields_present": ["links.order_no"]}, dict(fields=frozenset({"links.order_no", "city"})), True),
        ({"fields_present": ["links.order_no", "device_os"]}, dict(fields=frozenset({"links.order_no"})), False),
        ({"local_time": "22:00-08:00"}, dict(local_time=time(23, 30)), True),
        ({"local_time": "22:00-08:00"}, dict(local_time=time(7, 59)), True),
        ({"local_time": "22:00-08:00"}, dict(local_time=time(8, 0)), False),
        ({"local_time": "22:00-08:00"}, dict(local_time=time(12, 0)), False),
        ({"local_time": "09:00-18:00"}, dict(local_time=time(9, 0)), True),
        ({"local_time": "09:00-18:00"}, dict(local_time=time(18, 0)), False),
        (
            {"category": ["technical"], "priority": ["urgent", "high"]},
            dict(category="technical", priority="high"),
            True,
        ),
        ({"category": ["technical"], "priority": ["urgent"]}, dict(category="technical", priority="high"), False),
        ({"subcategory": ["refund"]}, dict(category="commercial", subcategory="refund"), True),
        ({}, dict(), True),
    ],
)
def test_conditions(when: dict[str, Any], given: dict[str, Any], fires: bool) -> None:
    outcome = evaluate(load_rules([rule("r", when, {"tags": ["hit"]})]), facts(**given))
    assert bool(outcome.fired) is fires
    if fires and "keywords" in when:
        assert outcome.fired[0].keywords


@pytest.mark.parametrize(
    ("span", "moment", "inside"),
    [
        ((time(22), time(8)), time(0), True),
        ((time(22), time(8)), time(22), True),
        ((time(22), time(8)), time(21, 59), False),
        ((time(8), time(22)), time(21, 59), True),
    ],
)
def test_in_range(span: tuple[time, time], moment: time, inside: bool) -> None:
    assert in_range(moment, span) is inside


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"id": "Bad Id", "name": "x", "then": {"team": "general"}}, "id"),
        ({"id": "a", "name": "", "then": {"team": "general"}}, "name"),
        ({"id": "a", "name": "x", "then": {}}, "then"),
        ({"id": "a", "name": "x"}, "then"),
        ({"id": "a", "name": "x", "then": {"team": "General Team"}}, "then.team"),
        ({"id": "a", "name": "x", "then": {"priority": "asap"}}, "then.priority"),
        ({"id": "a", "name": "x", "then": {"assignment_mode": "random"}}, "then.assignment_mode"),
        ({"id": "a", "name": "x", "then": {"assignee": True}}, "then.assignee"),
        ({"id": "a", "name": "x", "then": {"colour": "red"}}, "then"),
        ({"id": "a", "name": "x", "when": {"categroy": ["technical"]}, "then": {"team": "general"}}, "when"),
        ({"id": "a", "name": "x", "when": {"priority": ["soon"]}, "then": {"team": "general"}}, "when.priority"),
        (
            {"id": "a", "name": "x", "when": {"local_time": "25:00-08:00"}, "then": {"team": "general"}},
            "when.local_time",
        ),
        (
            {"id": "a", "name": "x", "when": {"local_time": "08:00-08:00"}, "then": {"team": "general"}},
            "when.local_time",
        ),
        ({"id": "a", "name": "x", "when": {"vip": "yes"}, "then": {"team": "general"}}, "when.vip"),
        ({"id": "a", "name": "x", "when": {"keywords": "x" * 65}, "then": {"team": "general"}}, "when.keywords"),
        (
            {"id": "a", "name": "x", "when": {"fields_present": ["a b"]}, "then": {"team": "general"}},
            "when.fields_present",
        ),
        ({"id": "a", "name": "x", "when": [], "then": {"team": "general"}}, "when"),
        ({"id": "a", "name": "x", "stop": "no", "then": {"team": "general"}}, "stop"),
        ({"id": "a", "name": "x", "weight": 3, "then": {"team": "general"}}, None),
    ],
)
def test_invalid_rules_name_the_field(body: dict[str, Any], field: str | None) -> None:
    with pytest.raises(RoutingRuleError) as caught:
        validate_rule(body)
    assert caught.value.field == field


def test_rules_round_trip_and_repeated_ids_are_refused() -> None:
    for parsed in DEFAULTS:
        assert validate_rule(parsed.to_dict()) == parsed
    full = validate_rule(
        rule(
            "full",
            {"keywords": ["退款"], "local_time": "22:00-08:00", "vip": False, "fields_present": ["city"]},
            {"assignee": 42, "sla_policy": "night", "notify": ["finance"]},
            stop=True,
        )
    )
    assert validate_rule(full.to_dict()) == full and full.then.assignee == "42"
    with pytest.raises(RoutingRuleError):
        load_rules([rule("a", {}, {"team": "x"}), rule("a", {}, {"team": "y"})])
