"""Which suggestions say the same thing (pure: no database, no settings).

A suggestion is reduced to the words that name what is wanted: the ticket's search terms (jieba,
kit.text.search_terms) without the words every suggestion uses ("希望", "建议", "增加", "能不能",
"please add") and with the many names of one feature folded into one ("夜间"/"深色"/"暗黑"/"dark"
are all 暗色). Words of that feature vocabulary weigh more than incidental ones ("晚上看屏幕太亮了"
around "暗色模式"), because they are what product staff group by. Two suggestions are as similar
as the cosine of those weighted bags of words; a new one joins the group of its most similar
member if that reaches THRESHOLD, else it starts a group of its own.

Why not plain word overlap: "希望增加夜间模式" shares two words with "希望增加视频通话" and none
with "建议支持暗黑主题". Why not character bigrams: the same filler ("希望增加") dominates a short
text. Why max over members rather than a group centroid: a group of many phrasings would drift;
one close phrasing is the evidence a person would use too.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from huiying.kit.text import search_terms

# Join at this cosine or above. "语音通话" against "视频通话" is 0.5 (one of two feature words):
# a different feature, so the bar is above it.
THRESHOLD = 0.6
# A word of the feature vocabulary (a SYNONYMS value) counts this much more than another word.
FEATURE_WEIGHT = 2.0

# Words of asking, not of what is asked for (search-mode pieces too: "可不可以" also yields "可不"
# "不可" "可以"); English ones as kit.text stems them ("please" -> "pleas", "feature" -> "featur").
STOP_WORDS = frozenset(
    {
        # asking and wishing
        "希望", "建议", "想要", "想", "要", "需要", "请", "麻烦", "谢谢", "感谢", "拜托", "求", "求求",
        "能", "不能", "能否", "可不", "不可", "可以", "可不可以", "是否", "能不能", "会不会", "有没有",
        "没有", "什么", "时候", "什么时候", "何时", "尽快", "早日", "赶紧",
        # adding and offering
        "增加", "新增", "添加", "加个", "加上", "加入", "支持", "提供", "开通", "开放", "上线", "推出",
        "一下", "一个", "一些", "更多", "功能", "选项", "设置", "服务", "按照", "按",
        # people and particles
        "我", "我们", "你们", "大家", "用户", "平台", "app", "软件", "的", "了", "吗", "呢", "吧", "啊",
        "有", "就", "好", "很", "太", "也", "都", "还", "和", "或者", "这个", "那个", "现在", "目前",
        # English
        "pleas", "add", "a", "an", "the", "to", "for", "of", "in", "and", "or", "is", "it", "we", "i",
        "you", "can", "could", "would", "like", "be", "support", "featur", "option", "allow", "nice",
        "have", "with", "more", "new", "want", "need", "hope", "suggest",
    }
)  # fmt: skip

# Names of one feature folded into one word. Keep to names users really use for the same thing:
# a wrong fold merges two suggestions product staff would keep apart.
SYNONYMS: Mapping[str, str] = {
    # dark mode
    **dict.fromkeys(("暗色", "夜间", "深色", "暗黑", "黑暗", "黑夜", "夜晚", "黑色", "dark", "night"), "暗色"),
    **dict.fromkeys(("模式", "主题", "皮肤", "mode", "theme", "skin"), "模式"),
    # calls
    **dict.fromkeys(("视频", "video"), "视频"),
    **dict.fromkeys(("语音", "voic", "audio"), "语音"),
    **dict.fromkeys(("通话", "电话", "聊天", "call", "chat"), "通话"),
    # finding people
    **dict.fromkeys(("筛选", "过滤", "filter"), "筛选"),
    **dict.fromkeys(("城市", "地区", "地域", "同城", "附近", "city", "region"), "地区"),
    **dict.fromkeys(("年龄", "岁数", "age"), "年龄"),
    # price
    **dict.fromkeys(("价格", "价钱", "收费", "费用", "太贵", "贵", "降价", "便宜", "price", "cheaper"), "价格"),
    **dict.fromkeys(("会员", "vip", "member", "membership"), "会员"),
}


def features_of_terms(terms: Iterable[str]) -> dict[str, float]:
    """The weighted words of a suggestion from its search terms (as stored on the ticket)."""
    bag: dict[str, float] = {}
    for term in terms:
        if term in STOP_WORDS:
            continue
        folded = SYNONYMS.get(term)
        if folded is not None:
            bag[folded] = bag.get(folded, 0.0) + FEATURE_WEIGHT
        elif len(term) > 1:  # one character alone ("加", "看", "个") says little without its neighbours
            bag[term] = bag.get(term, 0.0) + 1.0
    return bag


def features_of(text: str) -> dict[str, float]:
    """The weighted words of a suggestion's text."""
    return features_of_terms(search_terms(text))


def features_of_tokens(tokens: str) -> dict[str, float]:
    """The weighted words from a ticket's stored `search_tokens` (space-separated search terms)."""
    return features_of_terms(tokens.split())


def similarity(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """Cosine of two bags of words, 0 (nothing shared, or an empty bag) to 1 (the same words)."""
    if not a or not b:
        return 0.0
    dot = sum(weight * b.get(word, 0.0) for word, weight in a.items())
    if dot == 0:
        return 0.0
    norm = math.sqrt(sum(w * w for w in a.values())) * math.sqrt(sum(w * w for w in b.values()))
    return min(1.0, dot / norm)


@dataclass(frozen=True)
class Match:
    group_id: int
    score: float


def best_group(
    new: Mapping[str, float], members: Iterable[tuple[int, Mapping[str, float]]], *, threshold: float = THRESHOLD
) -> Match | None:
    """The group whose most similar member is closest to `new`, if at least `threshold`; ties go
    to the older group (the lower id), which more people already count on."""
    best: dict[int, float] = {}
    for group_id, words in members:
        score = similarity(new, words)
        if score > best.get(group_id, -1.0):
            best[group_id] = score
    if not best:
        return None
    group_id, score = min(best.items(), key=lambda item: (-item[1], item[0]))
    return Match(group_id, round(score, 4)) if score >= threshold else None
