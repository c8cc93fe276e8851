"""Segmentation runs on rjieba but keeps the Python jieba 0.42's tokens: the stored search terms
of existing tickets and the starter models' vocabularies were cut by jieba, so a query cut now
must still yield the words they hold. The expected tokens below are jieba's own output."""

from __future__ import annotations

import pytest

from huiying.kit import text
from huiying.kit.text import search_terms, segment

# (text, jieba.cut_for_search of the normalised text, punctuation and blanks dropped)
JIEBA_CUTS = [
    ("打开直播间就闪退，重启手机也没用。", ["打开", "直播", "直播间", "就", "闪退", "重启", "手机", "也", "没用"]),
    ("中华人民共和国国歌", ["中华", "华人", "人民", "共和", "共和国", "中华人民共和国", "国歌"]),
    # ASCII runs outside the dictionary: rjieba alone keeps "3-4", "60-70" whole.
    ("适合3-4岁的宝宝，60-70年代的歌", ["适合", "3", "4", "岁", "的", "宝宝", "60", "70", "年代", "的", "歌"]),
    ("How do I re-add a card? U.S. only", ["how", "do", "i", "re", "add", "a", "card", "u", "s", "only"]),
    (
        "Since the update to 5.2.0 the app closes; 3.5mm jack, 100% sure",
        ["since", "the", "update", "to", "5.2", "0", "the", "app", "closes", "3.5", "mm", "jack", "100%", "sure"],
    ),
    ("订单号A2024-0012，c++和c#都行", ["订单", "单号", "订单号", "a2024", "0012", "c++", "和", "c#", "都行"]),
    # Full-width letters and digits are folded first; emoji are not words.
    ("ＡＰＰ闪退😀👍，ｉＰｈｏｎｅ１５ Ｍａｔｅ６０", ["app", "闪退", "iphone15", "mate60"]),
    # Han outside U+4E00..U+9FD5 and other scripts: one character at a time, as jieba does.
    (
        "㐀㐁中文 café アプリ 앱 нет",
        ["㐀", "㐁", "中文", "caf", "é", "ア", "プ", "リ", "앱", "н", "е", "т"],
    ),
    (
        "e-mail: a.b@x.cn https://x.cn/a?b=1&c=2 ¥199.00",
        ["e", "mail", "a", "b", "x", "cn", "https", "x", "cn", "a", "b", "1", "c", "2", "199.00"],
    ),
]


@pytest.mark.parametrize(("source", "tokens"), JIEBA_CUTS)
def test_segment_keeps_jiebas_tokens(source: str, tokens: list[str]) -> None:
    assert segment(source) == tokens


def test_a_query_finds_what_jieba_indexed() -> None:
    """Search matches when every query term is among the stored ones: a part of a text cut
    now yields only terms that jieba stored for the whole."""
    stored = set(search_terms("Since the update to 5.2.0 the app closes，订单号A2024-0012"))
    for query in ("5.2.0", "A2024-0012", "订单号", "closing"):
        assert set(search_terms(query)) <= stored, query


def test_warm_up_loads_the_segmenter_once() -> None:
    first = text.warm_up()
    assert text.warm_up() is first
    assert first.has_word("手机")
    assert segment("手机") == ["手机"]
