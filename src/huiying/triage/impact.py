"""How many people a piece of feedback says are affected: one user, or many. Pure.

SPEC §2: impact scope (one user vs. many) raises priority. The same "直播卡死了" is one user's
problem; "所有人都看不了直播，全站都卡死了" is an outage. Users say "many" in a few recurring
ways — a whole-site word (全站, 全平台, 服务器), a crowd that shares the problem (所有人, 大家都,
群里都在说, 不止我一个), a region (全国, 整个城市), or in English "everyone", "nobody can",
"site is down". A crowd that *wishes* for something ("大家都希望加个夜间模式") is not an outage, so
a crowd word next to a wish or suggestion does not count.

`assess(text)` returns the scope and the phrases that made it; the engine decides what the
scope does to priority (it only raises a problem, never a suggestion or a question).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from huiying.kit.text import normalise

Scope = Literal["one", "many"]

# Whole-service words: on their own they say the service, not one user, has the problem.
_SITE = (
    r"全站|全平台|整个(?:app|平台|网站|软件)|服务器(?:崩|挂|炸|宕|出问题|又|是不是)|宕机|大面积|"
    r"全(?:国|网)(?:都|用户|范围)|整个(?:城市|小区|省|地区)都|全部(?:用户|主播|直播间)|所有(?:用户|主播|直播间|人的)|"
    r"\bsite (?:is )?down\b|\boutage\b|\bservers? (?:are |is )?down\b|\bdown for (?:everyone|all)\b|"
    r"\bfor all users\b|\bwhole (?:app|site|platform)\b"
)
# A crowd that shares the problem.
_CROWD = (
    r"所有人|大家都|大家也|好多人|很多人|一堆人|不少人|身边(?:的人|朋友)都|朋友(?:们)?(?:都|也)|"
    r"群里.{0,6}(?:都|也)|不止我一个|不只我一个|不是我一个|不光我|别人也(?:是|一样|这样)|"
    r"同事.{0,3}(?:都|也)|室友.{0,2}(?:都|也)|全家都|"
    r"\beveryone\b|\beverybody\b|\bnobody can\b|\bno one can\b|"
    r"\ball (?:of )?(?:us|my friends?|users|the users)\b|\bmy friends? (?:also|too)\b|"
    r"\bnot just me\b|\bnot only me\b|\bmany (?:users|people)\b|\blots of (?:users|people)\b"
)
# A wish, a suggestion or a question next to a crowd word: "大家都希望…", "everyone wants…".
_WISH = (
    r"希望|建议|想要|都想|想知道|想问|期待|喜欢|求(?:加|出|开)|能不能|可不可以|可以加|"
    r"\bwants?\b|\bwould love\b|\bsuggest|\bwish"
)
_SITE_RE = re.compile(_SITE)
_CROWD_RE = re.compile(_CROWD)
_WISH_RE = re.compile(_WISH)
_WINDOW = 12  # characters after a crowd word in which a wish cancels it


@dataclass(frozen=True)
class Impact:
    scope: Scope
    phrases: tuple[str, ...] = ()

    @property
    def many(self) -> bool:
        return self.scope == "many"

    def reason(self) -> str:
        return "impact: many users (" + "、".join(self.phrases) + ")" if self.many else "impact: one user"


def assess(text: str) -> Impact:
    """Whether `text` says many users are affected, and the words that say so."""
    form = normalise(text)[:2000]
    phrases = [m.group(0) for m in _SITE_RE.finditer(form)]
    for match in _CROWD_RE.finditer(form):
        after = form[match.end() : match.end() + _WINDOW]
        if not _WISH_RE.search(after):
            phrases.append(match.group(0))
    unique = tuple(dict.fromkeys(p.strip() for p in phrases))
    return Impact("many", unique) if unique else Impact("one")
