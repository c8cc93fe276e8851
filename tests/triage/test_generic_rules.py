"""A generic rule (a bare 主播 / 直播间) asks a person to refine only when it is all triage has: it
never overrides a specific rule's match or the category the user chose (issue 16, item 13)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import StaffLogin
from huiying.triage.default_rules import DEFAULT_RULES
from huiying.triage.engine import Given, decide
from huiying.triage.rules import Rule, RuleSet

RULES = RuleSet.compile(DEFAULT_RULES)
STREAM_LAG = "technical/stream-lag"

# (text, the user's chosen category or None, expected category, expected needs_refinement)
CASES: list[tuple[str, str | None, str | None, bool]] = [
    # a specific rule matched: the generic one's request for a person does not count
    ("看直播一直卡", None, STREAM_LAG, False),
    ("主播直播间一直卡，根本看不了", None, STREAM_LAG, False),
    ("进了直播间画面一直转圈", None, STREAM_LAG, False),
    ("This streamer's live stream keeps freezing", None, STREAM_LAG, False),
    # the user chose the category on the form
    ("看直播一直卡", STREAM_LAG, STREAM_LAG, False),
    ("主播的直播间很卡 看不了", STREAM_LAG, STREAM_LAG, False),
    ("这个主播的直播间怎么回事", STREAM_LAG, STREAM_LAG, False),
    # the generic rule alone: a guess, so a person refines it
    ("这个主播的直播间怎么回事", None, "content/host-behavior", True),
    # safety rules (no category of their own) still ask for a person, whatever the category
    ("主播直播间一直卡，我真的不想活了", None, STREAM_LAG, True),
    ("看直播一直卡，我真的不想活了", STREAM_LAG, STREAM_LAG, True),
]


@pytest.mark.parametrize(("text", "chosen", "category", "refine"), CASES)
def test_generic_rules_never_override_a_specific_match_or_the_users_choice(
    text: str, chosen: str | None, category: str | None, refine: bool
) -> None:
    result = decide(text, rules=RULES, models={}, given=Given(category=chosen))
    assert (result.category.value, result.needs_refinement) == (category, refine)


def _rule(rule_id: str, **fields: Any) -> Rule:
    fields.setdefault("name", rule_id)
    return Rule(id=rule_id, **{k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()})


# (text, expected category rule, expected refinement rule ids)
MERGE_CASES: list[tuple[str, str | None, tuple[str, ...]]] = [
    ("主播", "generic", ("generic",)),  # the generic rule decides the category: its request stands
    ("主播卡顿", "specific", ()),  # it lost the category: its request goes with it
    ("主播卡顿 未成年", "specific", ("minor",)),  # a rule with no category asks regardless
    ("卡顿", "specific", ()),
]


@pytest.mark.parametrize(("text", "category_rule", "refinement"), MERGE_CASES)
def test_only_the_deciding_category_rule_asks_for_refinement(
    text: str, category_rule: str | None, refinement: tuple[str, ...]
) -> None:
    rules = RuleSet.compile(
        [
            _rule("specific", any_of=["卡顿"], category="technical", subcategory="stream-lag", weight=25),
            _rule("generic", any_of=["主播"], category="content", needs_refinement=True, weight=-10),
            _rule("minor", any_of=["未成年"], priority="urgent", needs_refinement=True),
        ]
    )
    outcome = rules.evaluate(text)
    assert outcome.category is not None and outcome.category.rule_id == category_rule
    assert outcome.refinement_rule_ids == refinement


@pytest.mark.usefixtures("triage_on")
@pytest.mark.parametrize(
    ("body", "team"),
    [
        # Stream stutter is the network group's (routing's default rules, SPEC.md §3).
        ({"description": "主播直播间一直卡，根本看不了"}, "tech-network"),
        (
            {"description": "这个主播的直播间怎么回事", "category": "technical", "subcategory": "stream-lag"},
            "tech-network",
        ),
    ],
)
def test_live_stream_tickets_are_routed_not_left_for_refinement(
    app_client: TestClient, admin: StaffLogin, body: dict[str, Any], team: str
) -> None:
    answer = app_client.post("/api/v1/feedback", json={"channel": "app", **body})
    assert answer.status_code == 201, answer.text
    ticket = app_client.get(f"/api/v1/tickets/{answer.json()['number']}", headers=admin.headers).json()
    assert (ticket["category"], ticket["subcategory"]) == ("technical", "stream-lag")
    assert ticket["needs_refinement"] is False
    assert ticket["team"] == team
