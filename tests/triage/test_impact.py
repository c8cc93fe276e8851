"""Impact scope: one user or many (SPEC §2), and what it does to priority."""

from __future__ import annotations

import pytest

from huiying.triage.engine import Given, decide
from huiying.triage.impact import assess

MANY = [
    "所有人都看不了直播，全站都卡死了",
    "群里都在说登不上",
    "不止我一个人这样，朋友们都打不开app",
    "服务器崩了吧？刷新了十次",
    "全国都登不上吗",
    "Everyone in my city cannot log in",
    "The site is down for everyone",
    "nobody can send messages since 9am",
    "大面积闪退，好多人都在微博上骂",
]
ONE = [
    "直播卡死了",
    "我登不上了",
    "大家都希望加个夜间模式",
    "很多人建议出个暗黑主题",
    "Everyone wants a dark mode",
    "我想知道所有权转让怎么操作",
    "",
]


@pytest.mark.parametrize("text", MANY)
def test_many_users(text: str) -> None:
    impact = assess(text)
    assert impact.many, text
    assert impact.phrases
    assert "many users" in impact.reason()


@pytest.mark.parametrize("text", ONE)
def test_one_user(text: str) -> None:
    assert not assess(text).many, text


def test_many_users_with_a_core_function_down_is_urgent() -> None:
    result = decide("所有人都登不上了", rules=None, models={}, given=Given(category="technical/login"))
    assert result.priority.value == "urgent"
    assert result.priority.source == "impact"
    assert "impact: many users" in result.priority.reason
    assert result.to_dict()["impact"] == {"scope": "many", "phrases": ["所有人"]}


def test_many_users_raise_other_problems_one_level() -> None:
    result = decide("不止我一个人被这个主播骂", rules=None, models={}, given=Given(category="content/host-behavior"))
    assert result.priority.value == "high"  # from the default medium


def test_a_crowd_that_wants_a_feature_is_not_raised() -> None:
    result = decide("所有人都想要夜间模式", rules=None, models={}, given=Given(category="suggestion/feature-request"))
    assert result.priority.value == "medium"  # the default: no signal, and not raised
    assert result.priority.source == "default"


def test_one_users_problem_is_not_raised() -> None:
    result = decide("我登不上了", rules=None, models={}, given=Given(category="technical/login"))
    assert result.priority.value == "medium"
    assert result.to_dict()["impact"]["scope"] == "one"
