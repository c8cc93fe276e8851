"""Which SLA policy a ticket gets: the most specific wins, ties by position (sla/policies.py)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from huiying.sla.policies import DEFAULT_POLICIES, WORKING_DAY_MINUTES, Policy, TicketFacts, choose

CASES = [
    # (priority, category, subcategory, vip, special_group) -> policy
    (("urgent", "technical", "payment-failure", False, None), "urgent"),
    (("urgent", None, None, True, None), "urgent"),  # urgent beats the VIP lane: 10 minutes is stricter
    (("medium", "technical", None, True, None), "vip"),
    (("low", "suggestion", None, False, "disabled"), "special-group"),
    (("high", "content", "harassment", False, None), "high"),
    (("medium", "content", "harassment", False, None), "content"),
    (("low", "technical", "crash", False, None), "technical"),
    (("medium", "commercial", "matchmaker-service", False, None), "complaint"),
    (("medium", "suggestion", "feature-request", False, None), "medium"),
    (("low", "suggestion", "feature-request", False, None), "low"),
    (("medium", None, None, False, None), "medium"),
]


@pytest.mark.parametrize(("facts", "expected"), CASES)
def test_default_policy_for(facts: tuple[str, str | None, str | None, bool, str | None], expected: str) -> None:
    priority, category, subcategory, vip, special = facts
    chosen = choose(DEFAULT_POLICIES, TicketFacts(priority, category, subcategory, vip, special))
    assert chosen is not None and chosen.slug == expected


def test_more_conditions_win_over_position() -> None:
    narrow = Policy(
        "tech-high", "技术高", "Technical high", 30, 240, priority="high", category="technical", position=999
    )
    policies = (*DEFAULT_POLICIES, narrow)
    assert choose(policies, TicketFacts("high", "technical")) == narrow
    assert choose(policies, TicketFacts("high", "content")).slug == "high"  # type: ignore[union-attr]


def test_inactive_policies_and_no_match() -> None:
    off = tuple(replace(p, active=False) if p.slug == "urgent" else p for p in DEFAULT_POLICIES)
    assert choose(off, TicketFacts("urgent", "technical")).slug == "technical"  # type: ignore[union-attr]
    only_urgent = tuple(p for p in DEFAULT_POLICIES if p.slug == "urgent")
    assert choose(only_urgent, TicketFacts("low")) is None


def test_defaults_are_spec_figures() -> None:
    by = {p.slug: p for p in DEFAULT_POLICIES}
    assert (by["urgent"].first_response_minutes, by["urgent"].resolution_minutes, by["urgent"].calendar) == (
        10,
        120,
        "24x7",
    )
    assert by["medium"].first_response_minutes == 240
    assert by["medium"].resolution_minutes == 3 * WORKING_DAY_MINUTES
    assert by["technical"].first_response_minutes <= 240
    assert by["content"].resolution_minutes <= 24 * 60 and by["content"].calendar == "24x7"
    assert by["complaint"].resolution_minutes == 3 * WORKING_DAY_MINUTES
    assert by["vip"].first_response_minutes < by["medium"].first_response_minutes
    assert len({p.position for p in DEFAULT_POLICIES}) == len(DEFAULT_POLICIES)
