"""Which suggestions say the same thing (suggestions/grouping.py, pure): real Chinese phrasings of
one feature meet, different features stay apart, and a new one joins the closest group."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from huiying.suggestions import grouping
from huiying.suggestions.grouping import best_group, features_of, similarity

DARK_MODE = [
    "希望增加夜间模式",
    "能不能加个深色模式",
    "建议支持暗黑主题",
    "晚上看屏幕太亮了，希望有暗色模式",
    "Please add a dark mode",
]


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        *[("希望增加夜间模式", other, True) for other in DARK_MODE[1:]],
        ("能不能加个深色模式", "建议支持暗黑主题", True),
        ("希望增加视频通话", "可以加一个视频聊天功能吗", True),
        ("希望可以按照城市筛选用户", "建议增加按地区筛选", True),
        ("希望降低会员价格", "会员太贵了", True),
        ("希望增加夜间模式", "希望增加视频通话", False),  # the same filler, another feature
        ("建议支持暗黑主题", "希望增加视频通话", False),
        ("希望增加视频通话", "建议增加语音通话", False),  # video and voice calls are two features
        ("建议增加按地区筛选", "搜索的时候希望能筛选年龄", False),
        ("希望增加夜间模式", "希望降低会员价格", False),
        ("希望增加", "建议增加", False),  # nothing but asking: no evidence of the same wish
    ],
)
def test_similar_suggestions_meet_and_different_ones_do_not(a: str, b: str, same: bool) -> None:
    score = similarity(features_of(a), features_of(b))
    assert (score >= grouping.THRESHOLD) is same, (a, b, score)


def test_the_words_of_asking_are_dropped_and_names_of_one_feature_folded() -> None:
    assert features_of("能不能加个深色模式吗") == features_of("建议支持暗黑主题") == {"暗色": 2.0, "模式": 2.0}
    assert features_of("希望增加") == {}
    assert similarity({}, features_of("夜间模式")) == 0.0


def test_a_new_suggestion_joins_the_group_of_its_closest_member() -> None:
    members = [
        (1, features_of("希望增加视频通话")),
        (2, features_of("希望降低会员价格")),
        (3, features_of("晚上看屏幕太亮了，希望有暗色模式")),
        (3, features_of("建议支持暗黑主题")),  # the closest member decides, not the average
    ]
    match = best_group(features_of("希望增加夜间模式"), members)
    assert match is not None and match.group_id == 3 and match.score == 1.0
    assert best_group(features_of("希望增加更多礼物"), members) is None  # like nothing: a new group
    assert best_group(features_of("希望增加夜间模式"), []) is None


def test_a_tie_goes_to_the_older_group() -> None:
    members = [(7, features_of("建议支持暗黑主题")), (4, features_of("能不能加个深色模式"))]
    match = best_group(features_of("希望增加夜间模式"), members)
    assert match is not None and match.group_id == 4


def test_the_stored_search_tokens_give_the_same_words_as_the_text() -> None:
    from huiying.kit.text import search_tokens

    for text in DARK_MODE:
        assert grouping.features_of_tokens(search_tokens(text)) == features_of(text)


def test_grouping_is_pure() -> None:
    """No database, settings or HTTP: inside huiying it may use only kit (and errors)."""
    source = Path(grouping.__file__).read_text(encoding="utf-8")
    imported = {
        node.module
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("huiying")
    }
    assert imported and all(m.startswith("huiying.kit") or m == "huiying.errors" for m in imported), imported
