"""SLA policies and which one a ticket gets. Pure: no database, no settings, no clock.

A policy names the tickets it is for (priority, category, sub-category, group: `vip` or a
special group; None = any) and its targets in business minutes on a calendar (`24x7`, a working
calendar's slug, or None for the ticket team's calendar). The most specific policy wins: the one
with the most conditions set; among equally specific ones the lower position (admins order them;
the defaults put urgent first, then VIP and special groups, then high, then the categories)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

ROUND_THE_CLOCK = "24x7"
# A working day of the standard schedule (09:00-12:00, 13:30-18:00: 7.5 hours): "3 working days" is three
# such days of business time, whatever the weekday hours of the team's calendar are.
WORKING_DAY_MINUTES = 3 * 60 + 4 * 60 + 30
SPECIAL = "special"  # a policy for every special group (a ticket's special_group set)


@dataclass(frozen=True)
class Policy:
    slug: str
    name_zh: str
    name_en: str
    first_response_minutes: int
    resolution_minutes: int
    next_response_minutes: int | None = None
    calendar: str | None = None
    priority: str | None = None
    category: str | None = None
    subcategory: str | None = None
    group: str | None = None
    position: int = 0
    active: bool = True

    @property
    def specificity(self) -> int:
        return sum(value is not None for value in (self.priority, self.category, self.subcategory, self.group))


@dataclass(frozen=True)
class TicketFacts:
    """What policy matching looks at."""

    priority: str
    category: str | None = None
    subcategory: str | None = None
    vip: bool = False
    special_group: str | None = None

    @property
    def groups(self) -> frozenset[str]:
        groups = {"vip"} if self.vip else set()
        if self.special_group:
            groups |= {SPECIAL, self.special_group}
        return frozenset(groups)


def matches(policy: Policy, facts: TicketFacts) -> bool:
    return (
        policy.active
        and policy.priority in (None, facts.priority)
        and policy.category in (None, facts.category)
        and policy.subcategory in (None, facts.subcategory)
        and (policy.group is None or policy.group in facts.groups)
    )


def choose(policies: Iterable[Policy], facts: TicketFacts) -> Policy | None:
    """The most specific active policy for the ticket (ties: lowest position), or None."""
    best: Policy | None = None
    for policy in policies:
        if not matches(policy, facts):
            continue
        if best is None or (-policy.specificity, policy.position) < (-best.specificity, best.position):
            best = policy
    return best


def by_slug(policies: Sequence[Policy], slug: str | None) -> Policy | None:
    return next((p for p in policies if p.slug == slug and p.active), None) if slug else None


HOUR = 60
DAY = WORKING_DAY_MINUTES

# SPEC.md §4's figures, the defaults of a fresh install (admins edit them: /api/v1/sla/policies).
DEFAULT_POLICIES: tuple[Policy, ...] = (
    Policy("urgent", "紧急", "Urgent", 10, 2 * HOUR, 30, ROUND_THE_CLOCK, priority="urgent"),
    Policy("vip", "VIP 用户", "VIP users", 30, DAY, HOUR, group="vip"),
    Policy("special-group", "特殊群体", "Special groups", 30, DAY, HOUR, group=SPECIAL),
    Policy("high", "高", "High", HOUR, DAY, 2 * HOUR, priority="high"),
    # 红娘服务投诉: investigated within 3 working days.
    Policy("complaint", "投诉", "Complaints", 4 * HOUR, 3 * DAY, 8 * HOUR, subcategory="matchmaker-service"),
    # Content review runs around the clock: answered within 24 hours.
    Policy("content", "内容类", "Content", 4 * HOUR, 24 * HOUR, 8 * HOUR, ROUND_THE_CLOCK, category="content"),
    Policy("technical", "技术类", "Technical", 4 * HOUR, 3 * DAY, 8 * HOUR, category="technical"),
    Policy("medium", "中", "Medium (regular)", 4 * HOUR, 3 * DAY, 8 * HOUR, priority="medium"),
    Policy("low", "低（建议）", "Low (suggestions)", DAY, 10 * DAY, 2 * DAY, priority="low"),
)
DEFAULT_POLICIES = tuple(replace(p, position=index * 10) for index, p in enumerate(DEFAULT_POLICIES))
# What a ticket no policy matches gets (an admin deactivated them all): the regular class.
FALLBACK = next(p for p in DEFAULT_POLICIES if p.slug == "medium")
